"""Signing in to a web console (agent or admin): the form, the cookie, sign-out.

Each console has one :class:`ConsoleSignIn`; they differ only in where they live,
the cookie they use and who may sign in. The cookie carries a random token (the
store keeps only its digest) and is HttpOnly, SameSite=Strict and, by default,
Secure. Sign-in and sign-out check that the form was posted by a page of this
server, and always send the browser back to the console's own page: never to a
place named by the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from cobrowse.store.users import Account, UserRole
from cobrowse.web.api_base import ApiError
from cobrowse.web.pages import sign_in_page
from cobrowse.web.security import is_same_origin
from cobrowse.web.services import services_of

MAX_USERNAME_CHARS = 64
MAX_PASSWORD_CHARS = 1024


@dataclass(frozen=True)
class ConsoleSignIn:
    title: str
    """The console's name on its pages, like "Agent console"."""
    home: str
    """The console's page; sign-in and sign-out are under it."""
    cookie: str
    cookie_path: str
    """Where the browser sends the cookie: only as far as the console needs it."""
    csp: str
    """Content security policy of the console's pages."""
    role: UserRole | None = None
    """The role an account needs to use the console; None lets every account in."""
    refusal: str = ""
    """What an account without that role is told."""

    @property
    def name(self) -> str:
        return self.home.strip("/")

    def routes(self) -> list[Route]:
        return [
            Route(f"{self.home}/sign-in", self.sign_in, methods=["POST"]),
            Route(f"{self.home}/sign-out", self.sign_out, methods=["POST"]),
        ]

    def permits(self, account: Account) -> bool:
        return self.role is None or account.role is self.role

    # The console's JSON endpoints (FastAPI dependencies) -----------------------------

    async def signed_in(self, request: Request) -> Account:
        """The account a console fetch is made with: 401 when signed out, 403 when its
        role may not use this console."""
        account = await self.account(request)
        if account is None:
            raise ApiError(401, "unauthorized", f"Sign in to the {self.title.lower()} again.")
        if not self.permits(account):
            raise ApiError(403, "forbidden", self.refusal)
        return account

    async def from_its_page(self, request: Request) -> None:
        """A change is made only from the console's own page (no cross-site request
        forgery)."""
        if not is_same_origin(request.headers):
            raise ApiError(
                403, "cross_site", f"Only the {self.title.lower()}'s own page can do this."
            )

    async def account(self, connection: HTTPConnection) -> Account | None:
        """The account signed in with this console's cookie, whatever its role."""
        token = connection.cookies.get(self.cookie)
        if not token:
            return None
        return await services_of(connection.app).users.account_for_token(token)

    def page(self, body: str, status_code: int = 200) -> HTMLResponse:
        """One of the console's pages, with the headers every console page carries."""
        return HTMLResponse(
            body,
            status_code=status_code,
            headers={
                "Content-Security-Policy": self.csp,
                "X-Frame-Options": "DENY",
                "Cache-Control": "no-store",
            },
        )

    def form(self, error: str | None = None, status_code: int = 200) -> HTMLResponse:
        return self.page(sign_in_page(self.title, f"{self.home}/sign-in", error), status_code)

    async def sign_in(self, request: Request) -> Response:
        if not is_same_origin(request.headers):
            return HTMLResponse("Cross-site sign-in refused.", status_code=403)
        services = services_of(request.app)
        form = await request.form()
        username = str(form.get("username", ""))[:MAX_USERNAME_CHARS]
        password = str(form.get("password", ""))[:MAX_PASSWORD_CHARS]
        account = await services.users.authenticate(username, password)
        if account is None:
            await services.audit.record("sign_in_failed", username or "(empty)", console=self.name)
            return self.form("Wrong username or password.", 401)
        if not self.permits(account):
            await services.audit.record("sign_in_refused", account.username, console=self.name)
            return self.form(self.refusal, 403)
        lifetime = timedelta(hours=services.settings.agent_login_hours)
        token = await services.users.sign_in(account, lifetime)
        await services.audit.record("signed_in", account.username, console=self.name)
        response = RedirectResponse(self.home, status_code=303)
        response.set_cookie(
            self.cookie,
            token,
            max_age=int(lifetime.total_seconds()),
            path=self.cookie_path,
            secure=services.settings.cookie_secure,
            httponly=True,
            samesite="strict",
        )
        return response

    async def sign_out(self, request: Request) -> Response:
        if not is_same_origin(request.headers):
            return HTMLResponse("Cross-site sign-out refused.", status_code=403)
        token = request.cookies.get(self.cookie)
        if token:
            await services_of(request.app).users.sign_out(token)
        response = RedirectResponse(self.home, status_code=303)
        response.delete_cookie(self.cookie, path=self.cookie_path)
        return response
