"""Which chat or call a co-browse session belongs to (S2).

A session started from a chat is bound to it from the start: only that chat's agent
may join it, and only while the chat is open. A session started from CallUs (or the
plain launcher) carries no interaction: the agent joining it by its ID binds it to
the agent's open voice interaction — the call the customer read the ID out on —
and with no open call the join is refused, unless the deployment lets agents
co-browse without one (``require_interaction = false``).
"""

from __future__ import annotations

import logging

from cobrowse.core.interactions import InteractionKind, InteractionState
from cobrowse.core.session import Refusal, Session
from cobrowse.store.interactions import (
    InteractionAlreadyEnded,
    InteractionStore,
    SessionNotBindable,
    UnknownInteraction,
)

log = logging.getLogger("cobrowse.integration")

NO_CALL = (
    "You have no open call to bind this co-browse session to. Register the customer's "
    "call first (Incoming call, in the console), or have your contact-center system "
    "create it, then join again."
)


class InteractionBinding:
    """The S2 rules, with the interactions as the store keeps them."""

    def __init__(self, store: InteractionStore, required: bool) -> None:
        self._store = store
        self.required = required

    async def for_join(self, agent_id: str, session: Session) -> str | None:
        """The interaction the agent's join binds ``session`` to; Refusal when the
        agent may not join it."""
        if session.interaction_id is not None:
            return await self._own_chat(agent_id, session.interaction_id)
        calls = await self._store.open_for_agent(agent_id, InteractionKind.VOICE)
        if calls:
            return calls[0].id  # the newest: the call the agent took last
        if self.required:
            raise Refusal("no_interaction", NO_CALL)
        return None

    async def _own_chat(self, agent_id: str, interaction_id: str) -> str:
        try:
            interaction = await self._store.get(interaction_id)
        except UnknownInteraction:
            raise Refusal("interaction_ended", "This co-browse session's chat has ended.") from None
        if interaction.state is not InteractionState.OPEN:
            raise Refusal("interaction_ended", "This co-browse session's chat has ended.")
        if interaction.agent != agent_id:
            raise Refusal(
                "not_your_interaction",
                "This co-browse session belongs to another agent's "
                f"{'chat' if interaction.kind is InteractionKind.CHAT else 'call'}.",
            )
        return interaction_id

    async def bind(self, session_id: str, interaction_id: str) -> bool:
        """Record the binding in the session's history row; False when the interaction
        ended meanwhile (the caller ends the session: it may not outlive it)."""
        try:
            await self._store.bind_session(session_id, interaction_id)
        except (InteractionAlreadyEnded, UnknownInteraction, SessionNotBindable):
            log.info(
                "co-browse session not bound: its interaction ended",
                extra={"session": session_id, "interaction": interaction_id},
            )
            return False
        return True
