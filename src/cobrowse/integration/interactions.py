"""Creating and ending primary interactions, with what must follow: webhooks, and the
end of the co-browse sessions bound to an interaction that ends (PRODUCT.md §6 P2).

One path for every way an interaction ends (the REST API now; the built-in chat and
the agent console later), so none of them forgets a step.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from cobrowse.core.interactions import InteractionKind
from cobrowse.core.webhooks import WebhookEvent
from cobrowse.store.interactions import CobrowseReport, Ending, Interaction, InteractionStore

log = logging.getLogger("cobrowse.interactions")


class InteractionEndListener(Protocol):
    """Told when an interaction has ended while co-browse sessions bound to it are live.

    The live layer implements it: it ends those sessions with the reason
    ``interaction_ended``, and both parties are told why.
    """

    async def interaction_ended(self, interaction_id: str, session_ids: list[str]) -> None: ...


class InteractionClosedListener(Protocol):
    """Told once when an interaction ends, whoever ended it and however (the web chat,
    which tells both sides of a chat in words)."""

    async def interaction_closed(self, interaction: Interaction, ended_by: str) -> None: ...


class EventEmitter(Protocol):
    async def emit(self, event_type: str, data: dict[str, object]) -> None: ...


class InteractionLifecycle:
    def __init__(
        self,
        store: InteractionStore,
        webhooks: EventEmitter,
        end_listeners: Sequence[InteractionEndListener],
    ) -> None:
        self._store = store
        self._webhooks = webhooks
        # Kept by reference: listeners added after construction are told too.
        self._end_listeners = end_listeners
        self.closed_listeners: list[InteractionClosedListener] = []
        """Told once when an interaction ends (after its sessions and the webhook)."""

    async def create(
        self,
        kind: InteractionKind,
        agent: str | None,
        customer_reference: str | None,
        site: str | None,
    ) -> Interaction:
        interaction = await self._store.create(kind, agent, customer_reference, site)
        log.info(
            "interaction created",
            extra={"interaction": interaction.id, "kind": kind.value, "agent": agent},
        )
        await self._webhooks.emit(
            WebhookEvent.INTERACTION_CREATED, {"interaction": interaction.to_json()}
        )
        return interaction

    async def end(self, interaction_id: str, ended_by: str) -> tuple[Ending, CobrowseReport]:
        """End the interaction and its live co-browse sessions; what ended, and the
        co-browse report as it stands once they have.

        Ending an ended interaction again still ends any session of it that is live
        (one a crash left behind); the ``interaction.ended`` event is sent once only.
        """
        ending = await self._store.end(interaction_id, ended_by)
        live_sessions = await self._store.live_session_ids(interaction_id)
        if live_sessions:
            await self._end_sessions(interaction_id, live_sessions)
        report = await self._store.cobrowse_report(interaction_id)
        if ending.ended_now:
            log.info(
                "interaction ended",
                extra={"interaction": interaction_id, "ended_by": ended_by},
            )
            await self._webhooks.emit(
                WebhookEvent.INTERACTION_ENDED,
                {"interaction": ending.interaction.to_json(), "cobrowse": report.to_json()},
            )
            for listener in list(self.closed_listeners):
                try:
                    await listener.interaction_closed(ending.interaction, ended_by)
                except Exception:  # the interaction has ended whatever a listener does
                    log.exception("a listener of ended interactions failed")
        return ending, report

    async def _end_sessions(self, interaction_id: str, session_ids: list[str]) -> None:
        for listener in list(self._end_listeners):
            try:
                await listener.interaction_ended(interaction_id, list(session_ids))
            except Exception:
                # The interaction has ended whatever a listener does; the sessions still
                # end by their own timeouts.
                log.exception(
                    "co-browse sessions of an ended interaction were not ended",
                    extra={"interaction": interaction_id, "sessions": session_ids},
                )
