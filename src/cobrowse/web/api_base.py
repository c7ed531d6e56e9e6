"""What every router of the integration API shares: the error type and its JSON shape,
the API-key check, and the services dependency. A module of its own so that routers
in other modules can use them while ``api.py`` includes those routers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.responses import Response

from cobrowse.web.services import Services, services_of


class ApiError(Exception):
    """An answer other than success, carried to the error handler."""

    def __init__(
        self, status: int, error: str, text: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(text)
        self.status = status
        self.error = error
        self.text = text
        self.headers = headers


class ErrorBody(BaseModel):
    error: str = Field(description="Stable code for programs, like `unknown_site`.")
    text: str = Field(description="What went wrong, in a sentence for a person.")


ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


def error_response(
    status: int, error: str, text: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": error, "text": text}, status_code=status, headers=headers)


def sentence(message: str) -> str:
    """A store's message (``there is no site named 'x'``) as an answer's text."""
    text = message[:1].upper() + message[1:]
    return text if text.endswith(".") else text + "."


_bearer = HTTPBearer(
    auto_error=False,
    description="An API key from `cobrowse api-keys create NAME`.",
)


async def _services(request: Request) -> Services:
    return services_of(request.app)


async def api_key_name(
    services: Annotated[Services, Depends(_services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The name of the API key the request is made with; 401 without a valid one."""
    if credentials is None:
        raise ApiError(
            401,
            "unauthorized",
            "Send an API key as Authorization: Bearer <key> "
            "(an administrator creates one with: cobrowse api-keys create NAME).",
            {"WWW-Authenticate": "Bearer"},
        )
    name = await services.api_keys.verify(credentials.credentials)
    if name is None:
        raise ApiError(
            401,
            "unauthorized",
            "This API key is not valid: it was never created or has been revoked.",
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return name


ServicesDep = Annotated[Services, Depends(_services)]
ApiKeyName = Annotated[str, Depends(api_key_name)]

UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No API key, or one that is not valid."},
}
