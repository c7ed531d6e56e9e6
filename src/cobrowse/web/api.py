"""The integration REST API under /api/v1 (PRODUCT.md §2, §10), with its OpenAPI
document at /api/v1/openapi.json.

Every endpoint needs an API key (``cobrowse api-keys create NAME``) sent as
``Authorization: Bearer <key>``. Errors are JSON ``{"error": code, "text": sentence}``,
the shape the rest of cobrowse answers with.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from cobrowse.core import restrictions as core
from cobrowse.store.sites import SITE_NAME_PATTERN, UnknownSite
from cobrowse.web import interactions_api, webhooks_api
from cobrowse.web.api_base import (
    UNAUTHORIZED,
    ApiError,
    ApiKeyName,
    ErrorBody,
    ServicesDep,
    api_key_name,
    error_response,
)
from cobrowse.web.history_search import HistoryFilters, SessionRecord, history_filters
from cobrowse.web.services import Services

log = logging.getLogger("cobrowse.api")

MAX_BODY_BYTES = 1024 * 1024
"""Far above any real set of restrictions; keeps a runaway client from filling memory."""
MAX_PATH_LENGTH = 2048

DESCRIPTION = """\
Integration API of cobrowse: sites and their DOM restrictions, the session history,
primary interactions (chats and calls) with their co-browse reports, and webhook
subscriptions. Authenticate with an API key created by an administrator
(`cobrowse api-keys create NAME`), sent as `Authorization: Bearer <key>`.
Errors are JSON objects `{"error": code, "text": sentence for a person}`.

Webhook deliveries are signed: `Cobrowse-Signature: t=<unix time>,v1=<hex>`, the
HMAC-SHA256 of `"<t>.<raw body>"` keyed with the subscription's secret. Refuse a
timestamp more than five minutes from your clock.
"""


class SiteInfo(BaseModel):
    name: str = Field(description="The site's name, as given to `cobrowse sites add`.")
    origins: list[str] = Field(
        description="Origins the site is served from; only they may embed the customer script."
    )


class RestrictionRule(BaseModel):
    """Selectors that apply on the pages whose path matches ``pattern``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    pattern: str = Field(
        description='Glob over the page\'s path (location.pathname), matched whole: "*" matches '
        'any characters, "/" included; "*" alone matches every page. Otherwise starts with "/", '
        f'at most {core.MAX_PATTERN_LENGTH} characters, no whitespace, "?" or "#".',
        examples=["/checkout*"],
    )
    mask: list[str] = Field(
        default_factory=list,
        max_length=core.MAX_SELECTORS_PER_LIST,
        description="CSS selectors of elements whose value and text never leave the "
        "customer's browser; the agent sees a constant placeholder.",
        examples=[["#email"]],
    )
    disable: list[str] = Field(
        default_factory=list,
        max_length=core.MAX_SELECTORS_PER_LIST,
        description="CSS selectors of elements the agent cannot click, type in or submit.",
        examples=[["#delete-account"]],
    )


class Restrictions(BaseModel):
    """A site's DOM restrictions: exactly what the customer script receives."""

    model_config = ConfigDict(extra="forbid", strict=True)

    mask_payment_cards: bool = Field(
        True,
        description='Mask payment card fields (autocomplete="cc-*"). Password fields are '
        "always masked; that is not a setting.",
    )
    disable_submit: bool = Field(
        True,
        description="Disable every submit control for the agent, who then cannot submit "
        "forms in any way. The customer always can.",
    )
    rules: list[RestrictionRule] = Field(
        default_factory=list,
        max_length=core.MAX_RULES_PER_SITE,
        description="Per-page rules; every rule whose pattern matches a page applies to it.",
    )

    @classmethod
    def of(cls, restrictions: core.SiteRestrictions) -> Restrictions:
        return cls.model_validate(restrictions.to_wire())

    def to_core(self) -> core.SiteRestrictions:
        return core.SiteRestrictions(
            mask_payment_cards=self.mask_payment_cards,
            disable_submit=self.disable_submit,
            rules=tuple(
                core.Rule(rule.pattern, tuple(rule.mask), tuple(rule.disable))
                for rule in self.rules
            ),
        )


class EffectiveRestrictions(BaseModel):
    """What applies on one page: the selectors of every matching rule, each once."""

    mask: list[str] = Field(description="Selectors of elements masked on this page.")
    disable: list[str] = Field(description="Selectors of elements disabled for the agent.")
    mask_payment_cards: bool = Field(description="Card fields are masked too.")
    disable_submit: bool = Field(description="Submit controls are disabled for the agent too.")


SiteName = Annotated[
    str,
    Path(description="The site's name.", pattern=SITE_NAME_PATTERN.pattern, examples=["shop"]),
]

_SITE_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No site has this name."}
}
_MALFORMED: dict[int | str, dict[str, Any]] = {
    422: {
        "model": ErrorBody,
        "description": "A parameter is malformed (`invalid_request`; the text names it).",
    }
}
_INVALID: dict[int | str, dict[str, Any]] = {
    422: {
        "model": ErrorBody,
        "description": "The request is malformed (`invalid_request`) or a pattern or "
        "selector is invalid (`invalid_restrictions`; the text names each one, its rule "
        "numbered from 1, and why).",
    }
}

router = APIRouter(dependencies=[Depends(api_key_name)], responses=UNAUTHORIZED)


@router.get("/sites", tags=["sites"], summary="List the registered sites")
async def list_sites(services: ServicesDep) -> list[SiteInfo]:
    """Every site registered with `cobrowse sites add`, by name."""
    return [
        SiteInfo(name=site.name, origins=list(site.origins)) for site in await services.sites.all()
    ]


@router.get(
    "/sites/{name}/restrictions",
    tags=["restrictions"],
    summary="Read a site's DOM restrictions",
    responses={**_SITE_ERRORS, **_MALFORMED},
)
async def get_restrictions(name: SiteName, services: ServicesDep) -> Restrictions:
    """The site's restrictions; a site nobody configured has the defaults."""
    return Restrictions.of(await services.restrictions.get(name))


@router.put(
    "/sites/{name}/restrictions",
    tags=["restrictions"],
    summary="Replace a site's DOM restrictions",
    responses={**_SITE_ERRORS, **_INVALID},
)
async def put_restrictions(
    name: SiteName, body: Restrictions, services: ServicesDep, api_key: ApiKeyName
) -> Restrictions:
    """Validate and save the site's restrictions, replacing what it had. Live sessions
    of the site receive them without a page reload."""
    restrictions = body.to_core()
    version = await services.restrictions.put(name, restrictions)
    log.info("restrictions changed", extra={"site": name, "version": version, "api_key": api_key})
    await services.audit.record(
        "restrictions_changed", "api", site=name, version=version, api_key=api_key
    )
    await _tell_live_sessions(services, name, restrictions)
    return Restrictions.of(restrictions)


@router.get(
    "/sites/{name}/restrictions/effective",
    tags=["restrictions"],
    summary="What applies on one page of a site",
    responses={**_SITE_ERRORS, **_MALFORMED},
)
async def effective_restrictions(
    name: SiteName,
    services: ServicesDep,
    path: Annotated[
        str,
        Query(
            description="The page's path (location.pathname), without query or fragment.",
            pattern="^/",
            max_length=MAX_PATH_LENGTH,
            examples=["/checkout/payment"],
        ),
    ],
) -> EffectiveRestrictions:
    """The selectors of every rule matching `path`, merged in rule order, each once."""
    restrictions = await services.restrictions.get(name)
    mask, disable = core.effective(restrictions, path)
    return EffectiveRestrictions(
        mask=list(mask),
        disable=list(disable),
        mask_payment_cards=restrictions.mask_payment_cards,
        disable_submit=restrictions.disable_submit,
    )


@router.get(
    "/sessions",
    tags=["sessions"],
    summary="Search the session history",
    responses=_MALFORMED,
)
async def list_sessions(
    services: ServicesDep, filters: Annotated[HistoryFilters, Depends(history_filters)]
) -> list[SessionRecord]:
    """Metadata of past and live sessions, newest first: site, agent, when it started,
    was joined and ended, why it ended, write mode requests. Never page content or URLs."""
    return await filters.search(services.history)


async def _tell_live_sessions(
    services: Services, site_name: str, restrictions: core.SiteRestrictions
) -> None:
    """Hand the new restrictions to the live sessions of this node, if they take them.

    The change is saved by now: a failure here is logged, not answered as an error,
    since the client retrying would change nothing.
    """
    notify = getattr(services.live, "restrictions_changed", None)
    if notify is None:
        return
    try:
        await notify(site_name, restrictions.to_wire())
    except Exception:
        log.exception("live sessions were not told of new restrictions", extra={"site": site_name})


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.error, exc.text, exc.headers)


async def _unknown_site(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnknownSite)
    return error_response(404, "unknown_site", f"There is no site named {exc.name!r}.")


async def _invalid_restrictions(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, core.RestrictionError)
    return error_response(422, "invalid_restrictions", str(exc))


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
        for problem in exc.errors()
    ]
    return error_response(422, "invalid_request", "; ".join(problems))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}
    return error_response(
        exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail), exc.headers
    )


def _operation_id(route: APIRoute) -> str:
    """The endpoint's function name (``put_restrictions``): what generated clients call it."""
    return route.name


def json_app(services: Services, **options: Any) -> FastAPI:
    """A FastAPI application answering the way all of cobrowse's JSON endpoints do:
    errors as ``{"error", "text"}``, bounded bodies, no browser tooling from a CDN.
    ``options`` go to FastAPI (title, OpenAPI settings)."""
    app = FastAPI(
        # No Swagger UI or ReDoc: they load scripts from a CDN, which a self-hosted
        # server should not make its administrators' browsers do.
        docs_url=None,
        redoc_url=None,
        max_body_size=MAX_BODY_BYTES,
        generate_unique_id_function=_operation_id,
        # cobrowse logs JSON lines itself (never page content); FastAPI's own
        # OpenTelemetry hooks would be a second, unconfigured path.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
        exception_handlers={
            ApiError: _api_error,
            UnknownSite: _unknown_site,
            core.RestrictionError: _invalid_restrictions,
            RequestValidationError: _invalid_request,
            HTTPException: _http_error,
        },
        **options,
    )
    app.state.services = services
    return app


def create_api(services: Services) -> FastAPI:
    """The API application, to be mounted at /api/v1."""
    api = json_app(services, title="cobrowse integration API", description=DESCRIPTION, version="1")
    api.include_router(router)
    api.include_router(interactions_api.router)
    api.include_router(webhooks_api.router)
    for error, handler in (*interactions_api.ERROR_HANDLERS, *webhooks_api.ERROR_HANDLERS):
        api.add_exception_handler(error, handler)
    return api
