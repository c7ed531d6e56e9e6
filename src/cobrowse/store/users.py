"""Agents and administrators: accounts, password checks and console sign-ins."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from cobrowse.core.ids import new_token, token_digest
from cobrowse.store.db import Database, as_utc
from cobrowse.store.models import AgentLogin, User

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
MIN_PASSWORD_LENGTH = 8


class UserRole(StrEnum):
    AGENT = "agent"
    ADMIN = "admin"


class UserError(Exception):
    """A user could not be added or changed; the message says why."""


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    role: UserRole


class UserStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        # argon2id with the library's defaults (RFC 9106 low-memory profile).
        self._hasher = PasswordHasher()
        self._unknown_user_hash = self._hasher.hash("no such user; equalizes timing")

    async def add(self, username: str, role: UserRole, password: str) -> Account:
        """Create the user, or set a new password and role if it already exists."""
        if not USERNAME_PATTERN.match(username):
            raise UserError("a username is 1 to 64 letters, digits, dots, dashes, underscores or @")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        async with self._db.sessions.begin() as tx:
            user = await tx.scalar(select(User).where(User.username == username))
            if user is None:
                user = User(username=username, created_at=datetime.now(UTC))
                tx.add(user)
            user.password_hash = password_hash
            user.role = role.value
            await tx.flush()
            return _account(user)

    async def authenticate(self, username: str, password: str) -> Account | None:
        async with self._db.sessions() as tx:
            user = await tx.scalar(select(User).where(User.username == username))
        stored = user.password_hash if user is not None else self._unknown_user_hash
        try:
            await asyncio.to_thread(self._hasher.verify, stored, password)
        except (VerificationError, InvalidHashError):
            return None
        return _account(user) if user is not None else None

    async def sign_in(self, account: Account, lifetime: timedelta) -> str:
        token = new_token()
        async with self._db.sessions.begin() as tx:
            tx.add(
                AgentLogin(
                    token_digest=token_digest(token),
                    user_id=account.id,
                    expires_at=datetime.now(UTC) + lifetime,
                )
            )
        return token

    async def account_for_token(self, token: str) -> Account | None:
        async with self._db.sessions() as tx:
            row = (
                await tx.execute(
                    select(User, AgentLogin.expires_at)
                    .join(AgentLogin, AgentLogin.user_id == User.id)
                    .where(AgentLogin.token_digest == token_digest(token))
                )
            ).first()
        if row is None:
            return None
        user, expires_at = row
        if as_utc(expires_at) <= datetime.now(UTC):
            return None
        return _account(user)

    async def sign_out(self, token: str) -> None:
        async with self._db.sessions.begin() as tx:
            await tx.execute(
                delete(AgentLogin).where(AgentLogin.token_digest == token_digest(token))
            )


def _account(user: User) -> Account:
    return Account(id=user.id, username=user.username, role=UserRole(user.role))
