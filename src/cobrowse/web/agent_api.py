"""The agent console's JSON endpoints (/agent/api): the agent's own calls.

S2 binds a session joined by its ID to the agent's open voice interaction. A
contact-center system creates those through the REST API; without one, the agent
registers the incoming call here (the console's "Incoming call") and ends it here
(which ends its co-browse session too, P2). Only the agent's own interactions are
listed or ended, and changes are accepted from the console's own page only.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path
from pydantic import BaseModel, Field

from cobrowse.core.interactions import (
    MAX_CUSTOMER_REFERENCE_LENGTH,
    InteractionKind,
    InteractionState,
)
from cobrowse.store.interactions import Interaction, InvalidInteraction, UnknownInteraction
from cobrowse.store.users import Account
from cobrowse.web.agent import SIGN_IN
from cobrowse.web.api import json_app
from cobrowse.web.api_base import ApiError, ServicesDep
from cobrowse.web.services import Services

log = logging.getLogger("cobrowse.agent")


class OpenInteraction(BaseModel):
    id: str
    kind: InteractionKind
    customer_reference: str | None
    site: str | None
    created_at: datetime

    @classmethod
    def of(cls, interaction: Interaction) -> OpenInteraction:
        return cls(
            id=interaction.id,
            kind=interaction.kind,
            customer_reference=interaction.customer_reference,
            site=interaction.site,
            created_at=interaction.created_at,
        )


class OpenInteractions(BaseModel):
    interactions: list[OpenInteraction] = Field(
        description="The agent's open chats and calls, newest first; a session the agent "
        "joins by its ID is bound to the newest call."
    )


class IncomingCall(BaseModel):
    customer_reference: str | None = Field(
        None,
        max_length=MAX_CUSTOMER_REFERENCE_LENGTH,
        description="Optional: how your own systems know the caller (never a secret).",
    )


class EndedInteraction(BaseModel):
    id: str
    already_ended: bool


Agent = Annotated[Account, Depends(SIGN_IN.signed_in)]
InteractionId = Annotated[str, Path(max_length=64)]
router = APIRouter(dependencies=[Depends(SIGN_IN.signed_in)])


@router.get("/interactions")
async def open_interactions(agent: Agent, services: ServicesDep) -> OpenInteractions:
    mine = await services.interactions.open_for_agent(agent.username)
    return OpenInteractions(interactions=[OpenInteraction.of(item) for item in mine])


@router.post("/calls", status_code=201, dependencies=[Depends(SIGN_IN.from_its_page)])
async def incoming_call(call: IncomingCall, agent: Agent, services: ServicesDep) -> OpenInteraction:
    """Register the call the agent just took, so co-browse can be bound to it."""
    try:
        created = await services.interaction_lifecycle.create(
            InteractionKind.VOICE, agent.username, call.customer_reference, None
        )
    except InvalidInteraction as problem:
        raise ApiError(422, "invalid_interaction", str(problem)) from None
    return OpenInteraction.of(created)


@router.post("/interactions/{interaction_id}/end", dependencies=[Depends(SIGN_IN.from_its_page)])
async def end_interaction(
    interaction_id: InteractionId, agent: Agent, services: ServicesDep
) -> EndedInteraction:
    """End one of the agent's own calls or chats, and its co-browse session (P2)."""
    try:
        interaction: Interaction | None = await services.interactions.get(interaction_id)
    except UnknownInteraction:
        interaction = None
    if interaction is None or interaction.agent != agent.username:
        raise ApiError(404, "unknown_interaction", "You have no such call or chat.")
    if interaction.state is not InteractionState.OPEN:
        return EndedInteraction(id=interaction_id, already_ended=True)
    ending, _ = await services.interaction_lifecycle.end(interaction_id, f"agent:{agent.username}")
    return EndedInteraction(id=interaction_id, already_ended=not ending.ended_now)


def create_agent_api(services: Services) -> FastAPI:
    """The console's JSON endpoints, to be mounted at /agent/api. Not part of the
    integration API, so no OpenAPI document: only agent.js calls them."""
    api = json_app(services, title="cobrowse agent console", openapi_url=None)
    api.include_router(router)
    return api
