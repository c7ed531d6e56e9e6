"""The built-in web chat's store: who owns each chat (a hashed token) and its messages.

A chat is an interaction of kind ``chat`` (store/interactions.py) plus one row here;
creating and ending it goes through the interaction lifecycle, so webhooks and the
end of its co-browse sessions never depend on which side ended it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, DateTime, ForeignKey, Integer, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from cobrowse.core.chat import ChatRefused, Sender
from cobrowse.core.interactions import InteractionKind, InteractionState
from cobrowse.core.webhooks import json_time
from cobrowse.store.db import Database, as_utc
from cobrowse.store.models import Base, InteractionRow, User

HISTORY_LIMIT = 500
"""The newest messages a chat shows when it is (re)opened."""
QUEUE_LIMIT = 100


class ChatRow(Base):
    __tablename__ = "chats"

    interaction_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64))
    customer_name: Mapped[str | None] = mapped_column(String(80))


class ChatMessageRow(Base):
    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    interaction_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("interactions.id", ondelete="CASCADE")
    )
    sender: Mapped[str] = mapped_column(String(8))
    author: Mapped[str | None] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(String(2000))
    session_id: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class ChatMessage:
    id: int
    sender: Sender
    author: str | None
    text: str
    session_id: str | None
    """Set on a co-browse request: the ID of the session the agent may join."""
    created_at: datetime

    def to_wire(self) -> dict[str, object]:
        return {
            "id": self.id,
            "sender": self.sender.value,
            "author": self.author,
            "text": self.text,
            "session": self.session_id,
            "at": json_time(self.created_at),
        }


@dataclass(frozen=True)
class Chat:
    id: str
    site: str | None
    customer_name: str | None
    agent: str | None
    state: InteractionState
    created_at: datetime

    @property
    def is_open(self) -> bool:
        return self.state is InteractionState.OPEN

    def to_wire(self) -> dict[str, object]:
        return {
            "id": self.id,
            "site": self.site,
            "customer": self.customer_name,
            "agent": self.agent,
            "state": self.state.value,
            "at": json_time(self.created_at),
        }


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ChatStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def open_chat(self, interaction_id: str, customer_name: str | None) -> str:
        """Make the (new) chat interaction a web chat; returns the customer's token,
        which is never stored as it is."""
        token = secrets.token_urlsafe(24)
        async with self._db.sessions.begin() as tx:
            tx.add(
                ChatRow(
                    interaction_id=interaction_id,
                    token_hash=hash_token(token),
                    customer_name=customer_name,
                )
            )
        return token

    async def get(self, interaction_id: str) -> Chat | None:
        async with self._db.sessions() as tx:
            found = (
                await tx.execute(
                    select(InteractionRow, ChatRow)
                    .join(ChatRow, ChatRow.interaction_id == InteractionRow.id)
                    .where(InteractionRow.id == interaction_id)
                )
            ).first()
        return _chat(found[0], found[1]) if found is not None else None

    async def owned(self, interaction_id: str, token: str) -> Chat | None:
        """The chat when ``token`` is its customer's; None otherwise (unknown chat or
        wrong token look the same)."""
        async with self._db.sessions() as tx:
            found = (
                await tx.execute(
                    select(InteractionRow, ChatRow)
                    .join(ChatRow, ChatRow.interaction_id == InteractionRow.id)
                    .where(InteractionRow.id == interaction_id)
                )
            ).first()
        if found is None or not hmac.compare_digest(found[1].token_hash, hash_token(token)):
            return None
        return _chat(found[0], found[1])

    async def accept(self, interaction_id: str, agent: str) -> Chat:
        """The agent takes a waiting chat. One conditional write: of two agents
        accepting at once, exactly one wins; the other is refused."""
        async with self._db.sessions.begin() as tx:
            if await tx.scalar(select(User.id).where(User.username == agent)) is None:
                raise ChatRefused("unknown_agent", "Your account no longer exists.")
            taken = await tx.scalar(
                update(InteractionRow)
                .where(InteractionRow.id == interaction_id)
                .where(InteractionRow.kind == InteractionKind.CHAT.value)
                .where(InteractionRow.state == InteractionState.OPEN.value)
                .where(InteractionRow.agent.is_(None))
                .values(agent=agent)
                .returning(InteractionRow.id)
                .execution_options(synchronize_session=False)
            )
        chat = await self.get(interaction_id)
        if chat is None:
            raise ChatRefused("no_such_chat", "There is no such chat.")
        if taken is None:
            if not chat.is_open:
                raise ChatRefused("chat_ended", "This chat has ended.")
            if chat.agent != agent:
                raise ChatRefused("chat_taken", "Another agent accepted this chat first.")
        return chat

    async def add_message(
        self,
        interaction_id: str,
        sender: Sender,
        author: str | None,
        text: str,
        session_id: str | None = None,
        at: datetime | None = None,
    ) -> ChatMessage:
        row = ChatMessageRow(
            interaction_id=interaction_id,
            sender=sender.value,
            author=author,
            text=text,
            session_id=session_id,
            created_at=at or datetime.now(UTC),
        )
        async with self._db.sessions.begin() as tx:
            tx.add(row)
            await tx.flush()
        return _message(row)

    async def messages(self, interaction_id: str, limit: int = HISTORY_LIMIT) -> list[ChatMessage]:
        """The chat's newest messages, oldest first."""
        async with self._db.sessions() as tx:
            rows = await tx.scalars(
                select(ChatMessageRow)
                .where(ChatMessageRow.interaction_id == interaction_id)
                .order_by(ChatMessageRow.id.desc())
                .limit(limit)
            )
            return [_message(row) for row in reversed(rows.all())]

    async def queue(self) -> list[Chat]:
        """Open chats no agent has accepted, oldest first."""
        return await self._open(InteractionRow.agent.is_(None), oldest_first=True)

    async def of_agent(self, agent: str) -> list[Chat]:
        """The agent's open chats, oldest first."""
        return await self._open(InteractionRow.agent == agent, oldest_first=True)

    async def _open(self, condition: ColumnElement[bool], oldest_first: bool) -> list[Chat]:
        order = InteractionRow.created_at if oldest_first else InteractionRow.created_at.desc()
        async with self._db.sessions() as tx:
            found = await tx.execute(
                select(InteractionRow, ChatRow)
                .join(ChatRow, ChatRow.interaction_id == InteractionRow.id)
                .where(InteractionRow.state == InteractionState.OPEN.value)
                .where(condition)
                .order_by(order, InteractionRow.id)
                .limit(QUEUE_LIMIT)
            )
            return [_chat(interaction, chat) for interaction, chat in found.all()]


def _chat(interaction: InteractionRow, chat: ChatRow) -> Chat:
    return Chat(
        id=interaction.id,
        site=interaction.site,
        customer_name=chat.customer_name,
        agent=interaction.agent,
        state=InteractionState(interaction.state),
        created_at=as_utc(interaction.created_at),
    )


def _message(row: ChatMessageRow) -> ChatMessage:
    return ChatMessage(
        id=row.id,
        sender=Sender(row.sender),
        author=row.author,
        text=row.text,
        session_id=row.session_id,
        created_at=as_utc(row.created_at),
    )
