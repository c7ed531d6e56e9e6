"""Primary interactions in the REST API (PRODUCT.md §6 P1): a contact-center system
creates one when a chat or call starts, names its agent, ends it, and reads what
co-browse happened during it."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from cobrowse.core.interactions import (
    MAX_CUSTOMER_REFERENCE_LENGTH,
    InteractionKind,
    InteractionState,
)
from cobrowse.store import interactions as store
from cobrowse.store.history import MAX_SEARCH_LIMIT
from cobrowse.store.sites import SITE_NAME_PATTERN
from cobrowse.store.users import USERNAME_PATTERN
from cobrowse.web.api_base import (
    UNAUTHORIZED,
    ApiKeyName,
    ErrorBody,
    ExceptionHandler,
    ServicesDep,
    api_key_name,
    error_response,
    sentence,
)

log = logging.getLogger("cobrowse.api")

_EXAMPLE_ID = "int_3mfq5bxk2wzt7hn4rj6dyca5"
_AGENT_DESCRIPTION = (
    "Username of the agent handling it: a cobrowse user (`cobrowse users add`), who joins "
    "its co-browse sessions from the agent console."
)


class NewInteraction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: InteractionKind = Field(description="A `chat` or a `voice` call.", examples=["voice"])
    agent: str | None = Field(
        None,
        pattern=USERNAME_PATTERN.pattern,
        description=f"{_AGENT_DESCRIPTION} Leave it out for a chat waiting in a queue, and "
        "set it later with `PUT /interactions/{id}/agent`.",
        examples=["alice"],
    )
    customer_reference: str | None = Field(
        None,
        max_length=MAX_CUSTOMER_REFERENCE_LENGTH,
        description="Your system's handle on the customer (a ticket number, a contact ID), "
        f"free text up to {MAX_CUSTOMER_REFERENCE_LENGTH} characters, given back by the API "
        "and in webhook payloads. It must not carry secrets: no card numbers, passwords or "
        "anything the customer would not read out to the agent.",
        examples=["CRM-48213"],
    )
    site: str | None = Field(
        None,
        pattern=SITE_NAME_PATTERN.pattern,
        description="The site the customer is on, if known (a name from `cobrowse sites add`).",
        examples=["shop"],
    )


class AgentAssignment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: str = Field(
        pattern=USERNAME_PATTERN.pattern, description=_AGENT_DESCRIPTION, examples=["bob"]
    )


class Interaction(BaseModel):
    """A chat or voice call between a customer and an agent."""

    id: str = Field(description="Opaque ID of the interaction.", examples=[_EXAMPLE_ID])
    kind: InteractionKind = Field(description="`chat` or `voice`.")
    state: InteractionState = Field(description="`open` until it ends; `ended` is final.")
    agent: str | None = Field(description="The agent handling it; null while none is.")
    customer_reference: str | None = Field(
        description="Your system's handle on the customer, as given at creation."
    )
    site: str | None = Field(description="The site the customer is on, if given.")
    created_at: datetime = Field(description="When it was created (UTC).")
    ended_at: datetime | None = Field(description="When it ended (UTC); null while open.")
    ended_by: str | None = Field(
        description="Who ended it: `api:<API key name>` when ended through this API; null "
        "while open.",
        examples=["api:crm"],
    )

    @classmethod
    def of(cls, interaction: store.Interaction) -> Interaction:
        return cls.model_validate(interaction.to_json())


class CobrowseSession(BaseModel):
    """One co-browse session of the interaction. Metadata only, never page content."""

    session_id: str = Field(
        description="The 9-digit session ID. IDs are reused once a session has ended.",
        examples=["123456789"],
    )
    agent: str | None = Field(description="The agent who joined; null if none did.")
    started_at: datetime = Field(description="When the customer started it (UTC).")
    joined_at: datetime | None = Field(description="When the agent joined; null if none did.")
    ended_at: datetime | None = Field(description="When it ended; null while it is live.")
    duration_seconds: float | None = Field(
        description="From start to end, in seconds; null while it is live."
    )
    end_reason: str | None = Field(
        description="Why it ended (as in the session history, plus `interaction_ended`); "
        "null while it is live.",
        examples=["customer_exit"],
    )
    write_mode_declined: bool = Field(
        description="The customer declined at least one request for write mode."
    )


class CobrowseReport(BaseModel):
    """What co-browse happened during the interaction."""

    co_browsed: bool = Field(
        description="An agent joined at least one co-browse session of the interaction."
    )
    session_count: int = Field(
        description="How many co-browse sessions the customer started in it, joined or not."
    )
    sessions: list[CobrowseSession] = Field(description="Those sessions, oldest first.")


class InteractionWithCobrowse(Interaction):
    cobrowse: CobrowseReport = Field(description="The co-browse sessions of the interaction.")

    @classmethod
    def of_report(
        cls, interaction: store.Interaction, report: store.CobrowseReport
    ) -> InteractionWithCobrowse:
        return cls.model_validate({**interaction.to_json(), "cobrowse": report.to_json()})


class EndedInteraction(InteractionWithCobrowse):
    already_ended: bool = Field(
        description="True when the interaction had ended before this request: nothing "
        "changed (ending is idempotent, so a retry is safe)."
    )


InteractionId = Annotated[
    str,
    Path(description="The interaction's ID.", max_length=64, examples=[_EXAMPLE_ID]),
]

_UNKNOWN: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No interaction has this ID (`unknown_interaction`)."}
}
_REFUSED_BODY: dict[int | str, dict[str, Any]] = {
    422: {
        "model": ErrorBody,
        "description": "The body is malformed (`invalid_request`, naming the field), or names "
        "a user (`unknown_agent`) or site (`unknown_site`) that does not exist, or the "
        "customer reference is not acceptable (`invalid_interaction`).",
    }
}
_ENDED: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "The interaction has ended (`interaction_ended`)."}
}

router = APIRouter(
    prefix="/interactions",
    tags=["interactions"],
    dependencies=[Depends(api_key_name)],
    responses=UNAUTHORIZED,
)


@router.post(
    "",
    status_code=201,
    summary="Create an interaction",
    responses=_REFUSED_BODY,
)
async def create_interaction(
    body: NewInteraction,
    services: ServicesDep,
    api_key: ApiKeyName,
    request: Request,
    response: Response,
) -> Interaction:
    """Record a chat or call that has started. Its co-browse sessions are bound to it,
    and ending it ends them. Subscribers of `interaction.created` are notified."""
    interaction = await services.interaction_lifecycle.create(
        body.kind, body.agent, body.customer_reference, body.site
    )
    await services.audit.record(
        "interaction_created",
        "api",
        interaction=interaction.id,
        interaction_kind=interaction.kind.value,
        agent=interaction.agent,
        api_key=api_key,
    )
    response.headers["Location"] = str(
        request.url_for("get_interaction", interaction_id=interaction.id)
    )
    return Interaction.of(interaction)


@router.get("", summary="List interactions", responses={422: _REFUSED_BODY[422]})
async def list_interactions(
    services: ServicesDep,
    state: Annotated[
        InteractionState | None, Query(description="Only interactions in this state.")
    ] = None,
    agent: Annotated[
        str | None, Query(description="Only interactions of this agent.", max_length=64)
    ] = None,
    kind: Annotated[InteractionKind | None, Query(description="Only chats or calls.")] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_SEARCH_LIMIT, description="At most this many interactions.")
    ] = 100,
) -> list[Interaction]:
    """Interactions matching every filter given, newest first (without their co-browse
    report; read one interaction for that)."""
    found = await services.interactions.list(state=state, agent=agent, kind=kind, limit=limit)
    return [Interaction.of(interaction) for interaction in found]


@router.get(
    "/{interaction_id}",
    summary="Read an interaction and its co-browse report",
    responses=_UNKNOWN,
)
async def get_interaction(
    interaction_id: InteractionId, services: ServicesDep
) -> InteractionWithCobrowse:
    """The interaction with what co-browse happened during it: whether an agent
    co-browsed, how many sessions, and for each its ID, times, duration, end reason and
    whether the customer declined write mode."""
    interaction = await services.interactions.get(interaction_id)
    report = await services.interactions.cobrowse_report(interaction_id)
    return InteractionWithCobrowse.of_report(interaction, report)


@router.post(
    "/{interaction_id}/end",
    summary="End an interaction",
    responses=_UNKNOWN,
)
async def end_interaction(
    interaction_id: InteractionId, services: ServicesDep, api_key: ApiKeyName
) -> EndedInteraction:
    """End the chat or call. Its live co-browse session ends too, with the reason
    `interaction_ended`, and both parties are told. Subscribers of `interaction.ended`
    are notified once. Ending an ended interaction changes nothing and answers
    `already_ended: true`."""
    ending, report = await services.interaction_lifecycle.end(interaction_id, f"api:{api_key}")
    if ending.ended_now:
        await services.audit.record(
            "interaction_ended", "api", interaction=interaction_id, api_key=api_key
        )
    ended = InteractionWithCobrowse.of_report(ending.interaction, report)
    return EndedInteraction(**ended.model_dump(), already_ended=not ending.ended_now)


@router.put(
    "/{interaction_id}/agent",
    summary="Set the agent of an interaction",
    responses={**_UNKNOWN, **_ENDED, **_REFUSED_BODY},
)
async def assign_agent(
    interaction_id: InteractionId,
    body: AgentAssignment,
    services: ServicesDep,
    api_key: ApiKeyName,
) -> Interaction:
    """Name the agent now handling the interaction: a queued chat was picked up, a call
    was transferred. A co-browse session already live keeps the agent who joined it."""
    interaction = await services.interactions.assign_agent(interaction_id, body.agent)
    await services.audit.record(
        "interaction_agent_set",
        "api",
        interaction=interaction_id,
        agent=body.agent,
        api_key=api_key,
    )
    return Interaction.of(interaction)


_ERROR_CODES: dict[type[store.InteractionError], tuple[int, str]] = {
    store.UnknownInteraction: (404, "unknown_interaction"),
    store.InteractionAlreadyEnded: (409, "interaction_ended"),
    store.UnknownAgent: (422, "unknown_agent"),
    store.UnknownInteractionSite: (422, "unknown_site"),
    store.InvalidInteraction: (422, "invalid_interaction"),
    store.SessionNotBindable: (409, "session_not_bindable"),
}


async def _interaction_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, store.InteractionError)
    status, code = _ERROR_CODES.get(type(exc), (422, "invalid_interaction"))
    return error_response(status, code, sentence(str(exc)))


ERROR_HANDLERS: tuple[tuple[type[Exception], ExceptionHandler], ...] = (
    (store.InteractionError, _interaction_error),
)
