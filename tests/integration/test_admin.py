"""The admin console over the real server: who gets in, the live overview, force-end as
the customer and the agent see it over their real WebSockets, and the history search."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from cobrowse.core import protocol
from cobrowse.core.session import END_REASON_TEXT, EndReason
from cobrowse.store.db import Database
from cobrowse.store.models import AuditEvent
from tests.integration.conftest import customer_socket
from tests.integration.test_sockets import closed_with, live_pair, receive, start
from tests.support import AGENT_PASSWORD, Deployment, sign_in_cookie

_numbers = itertools.count(1)

ADMIN_ENDED = {
    "v": 1,
    "t": "ended",
    "reason": "admin_ended",
    "text": "An administrator ended the co-browse session.",
}


@pytest.fixture
def admin_name(deployment: Deployment) -> str:
    return deployment.add_admin(f"admin-{next(_numbers)}")


@pytest.fixture
def admin_cookie(deployment: Deployment, admin_name: str) -> str:
    return sign_in_cookie(deployment, admin_name, console="/admin")


def new_agent(deployment: Deployment) -> str:
    return deployment.add_agent(f"admin-test-agent-{next(_numbers)}")


def admin_sign_in(
    deployment: Deployment, username: str, origin: str | None = None
) -> httpx.Response:
    return httpx.post(
        f"{deployment.url}/admin/sign-in",
        data={"username": username, "password": AGENT_PASSWORD},
        headers={"Origin": origin or deployment.url},
    )


def admin_get(
    deployment: Deployment, path: str, cookie: str | None, **params: Any
) -> httpx.Response:
    headers = {"Cookie": cookie} if cookie else {}
    return httpx.get(f"{deployment.url}{path}", params=params, headers=headers)


def force_end(
    deployment: Deployment,
    session_id: str,
    cookie: str | None,
    origin: str | None = None,
    *,
    send_origin: bool = True,
) -> httpx.Response:
    """POST the force-end, from the console's own origin unless told otherwise."""
    headers = {"Origin": origin or deployment.url} if send_origin else {}
    if cookie:
        headers["Cookie"] = cookie
    return httpx.post(f"{deployment.url}/admin/api/live/{session_id}/end", headers=headers)


def live_entry(deployment: Deployment, cookie: str, session_id: str) -> dict[str, Any] | None:
    response = admin_get(deployment, "/admin/api/live", cookie)
    assert response.status_code == 200, response.text
    entries = {entry["session_id"]: entry for entry in response.json()["sessions"]}
    return entries.get(session_id)


def moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


async def audit_where(deployment: Deployment, *where: Any) -> list[tuple[str, str, Any]]:
    """(kind, actor, detail) of the audit records that match, oldest first."""
    db = Database(deployment.settings.database_url)
    try:
        async with db.sessions() as tx:
            rows = await tx.execute(
                select(AuditEvent.kind, AuditEvent.actor, AuditEvent.detail)
                .where(*where)
                .order_by(AuditEvent.id)
            )
            return [(kind, actor, detail) for kind, actor, detail in rows]
    finally:
        await db.close()


# Who gets in ------------------------------------------------------------------------


def test_signed_out_the_admin_console_shows_its_own_sign_in_form(deployment: Deployment) -> None:
    page = httpx.get(f"{deployment.url}/admin")
    assert page.status_code == 200
    assert 'action="/admin/sign-in"' in page.text
    assert "Admin console" in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"


def test_an_admin_signs_in_with_a_cookie_scoped_to_the_admin_console(
    deployment: Deployment, admin_name: str
) -> None:
    response = admin_sign_in(deployment, admin_name)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin"
    attributes = [part.strip().lower() for part in response.headers["set-cookie"].split(";")]
    assert attributes[0].startswith("cobrowse_admin=")
    assert {"httponly", "secure", "samesite=strict", "path=/admin"} <= set(attributes)

    cookie = response.headers["set-cookie"].split(";", 1)[0]
    console = admin_get(deployment, "/admin", cookie)
    assert console.status_code == 200
    assert admin_name in console.text
    assert "/static/dist/admin.js" in console.text
    assert 'value="admin_ended"' in console.text, "the end reasons to filter by"


async def test_an_agent_is_refused_at_the_admin_sign_in(deployment: Deployment) -> None:
    agent = new_agent(deployment)
    response = admin_sign_in(deployment, agent)
    assert response.status_code == 403
    assert "Only administrators can use the admin console." in response.text
    assert "set-cookie" not in response.headers
    audit = await audit_where(deployment, AuditEvent.actor == agent)
    assert audit == [("sign_in_refused", agent, {"console": "admin"})]


def test_an_agents_sign_in_does_not_open_the_admin_console(deployment: Deployment) -> None:
    """Even carried in the admin cookie, an agent's token is refused on every request."""
    agent = new_agent(deployment)
    token = sign_in_cookie(deployment, agent).split("=", 1)[1]
    cookie = f"cobrowse_admin={token}"

    page = admin_get(deployment, "/admin", cookie)
    assert page.status_code == 403
    assert "Only administrators can use the admin console." in page.text
    assert agent in page.text
    assert 'action="/admin/sign-out"' in page.text
    for path in ("/admin/api/live", "/admin/api/history"):
        refused = admin_get(deployment, path, cookie)
        assert refused.status_code == 403
        assert refused.json()["error"] == "forbidden"
    assert force_end(deployment, "123456789", cookie).status_code == 403


def test_the_admin_endpoints_need_a_sign_in(deployment: Deployment) -> None:
    for path in ("/admin/api/live", "/admin/api/history"):
        for cookie in (None, "cobrowse_admin=forged"):
            refused = admin_get(deployment, path, cookie)
            assert refused.status_code == 401
            assert refused.json()["error"] == "unauthorized"
    assert force_end(deployment, "123456789", None).status_code == 401


def test_an_admin_who_becomes_an_agent_loses_the_console_at_once(
    deployment: Deployment, admin_name: str, admin_cookie: str
) -> None:
    assert admin_get(deployment, "/admin/api/live", admin_cookie).status_code == 200
    deployment.add_agent(admin_name)  # the same user, now with the agent role
    assert admin_get(deployment, "/admin/api/live", admin_cookie).status_code == 403
    assert admin_get(deployment, "/admin", admin_cookie).status_code == 403


def test_cross_site_admin_sign_in_is_refused(deployment: Deployment, admin_name: str) -> None:
    response = admin_sign_in(deployment, admin_name, origin="http://evil.example")
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_admin_sign_out_ends_the_sign_in(deployment: Deployment, admin_cookie: str) -> None:
    out = httpx.post(
        f"{deployment.url}/admin/sign-out",
        headers={"Cookie": admin_cookie, "Origin": deployment.url},
    )
    assert out.status_code == 303
    assert out.headers["location"] == "/admin"
    assert 'cobrowse_admin=""' in out.headers["set-cookie"]
    assert admin_get(deployment, "/admin/api/live", admin_cookie).status_code == 401
    assert 'action="/admin/sign-in"' in admin_get(deployment, "/admin", admin_cookie).text


def test_admins_may_use_the_agent_console_too(deployment: Deployment, admin_name: str) -> None:
    cookie = sign_in_cookie(deployment, admin_name)  # the agent console's sign-in
    console = admin_get(deployment, "/agent", cookie)
    assert "Session ID" in console.text


# Live sessions and force-end --------------------------------------------------------


async def test_the_overview_shows_idle_and_active_sessions(
    deployment: Deployment, site_origin: str, admin_cookie: str
) -> None:
    agent = new_agent(deployment)
    async with customer_socket(deployment, site_origin) as waiting:
        idle_id = await start(waiting)
        customer, agent_socket, active_id = await live_pair(
            deployment, site_origin, sign_in_cookie(deployment, agent)
        )
        async with customer, agent_socket:
            idle = live_entry(deployment, admin_cookie, idle_id)
            active = live_entry(deployment, admin_cookie, active_id)

    assert idle is not None
    assert idle["state"] == "idle"
    assert idle["mode"] == "pointer"
    assert idle["agent"] is None
    assert idle["site"] == "shop"
    assert idle["joined_at"] is None
    assert idle["duration_seconds"] >= 0
    assert active is not None
    assert active["state"] == "active"
    assert active["agent"] == agent
    assert active["site"] == "shop"
    assert active["joined_at"] is not None
    assert moment(active["started_at"]) <= moment(active["joined_at"])
    assert moment(idle["started_at"]) <= moment(active["started_at"])


async def test_force_end_tells_the_customer_and_the_agent_and_is_audited(
    deployment: Deployment, site_origin: str, admin_name: str, admin_cookie: str
) -> None:
    agent = new_agent(deployment)
    customer, agent_socket, session_id = await live_pair(
        deployment, site_origin, sign_in_cookie(deployment, agent)
    )
    async with customer, agent_socket:
        response = force_end(deployment, session_id, admin_cookie)
        assert response.status_code == 200, response.text
        assert response.json() == {"session_id": session_id, "end_reason": "admin_ended"}

        assert await receive(customer) == ADMIN_ENDED
        assert await closed_with(customer) == (protocol.CLOSE_ENDED, "admin_ended")
        assert await receive(agent_socket) == ADMIN_ENDED
    assert ADMIN_ENDED["text"] == END_REASON_TEXT[EndReason.ADMIN_ENDED]

    assert live_entry(deployment, admin_cookie, session_id) is None
    again = force_end(deployment, session_id, admin_cookie)
    assert again.status_code == 404
    assert again.json() == {
        "error": "not_live",
        "text": f"Session {session_id} is not live any more.",
    }
    audit = await audit_where(deployment, AuditEvent.session_id == session_id)
    assert ("session_ended", admin_name, {"reason": "admin_ended"}) in audit


async def test_an_idle_session_can_be_force_ended_too(
    deployment: Deployment, site_origin: str, admin_cookie: str
) -> None:
    async with customer_socket(deployment, site_origin) as customer:
        session_id = await start(customer)
        assert force_end(deployment, session_id, admin_cookie).status_code == 200
        assert await receive(customer) == ADMIN_ENDED
        assert await closed_with(customer) == (protocol.CLOSE_ENDED, "admin_ended")


async def test_force_end_from_another_site_is_refused(
    deployment: Deployment, site_origin: str, admin_cookie: str
) -> None:
    async with customer_socket(deployment, site_origin) as customer:
        session_id = await start(customer)
        for origin in ("http://evil.example", site_origin):
            refused = force_end(deployment, session_id, admin_cookie, origin=origin)
            assert refused.status_code == 403
            assert refused.json()["error"] == "cross_site"
        without_origin = force_end(deployment, session_id, admin_cookie, send_origin=False)
        assert without_origin.status_code == 403
        entry = live_entry(deployment, admin_cookie, session_id)
        assert entry is not None, "the session is still live"
        assert entry["state"] == "idle"


def test_a_malformed_session_id_is_refused(deployment: Deployment, admin_cookie: str) -> None:
    response = force_end(deployment, "12345", admin_cookie)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


# History ------------------------------------------------------------------------------


async def test_the_history_filters_are_those_of_the_rest_api(
    deployment: Deployment, site_origin: str, admin_cookie: str, api_key: str
) -> None:
    before = datetime.now(UTC)
    ended_by_admin, exited = new_agent(deployment), new_agent(deployment)
    customer, agent_socket, forced_id = await live_pair(
        deployment, site_origin, sign_in_cookie(deployment, ended_by_admin)
    )
    async with customer, agent_socket:
        assert force_end(deployment, forced_id, admin_cookie).status_code == 200
        assert (await receive(agent_socket))["reason"] == "admin_ended"
    customer, agent_socket, exited_id = await live_pair(
        deployment, site_origin, sign_in_cookie(deployment, exited)
    )
    async with customer, agent_socket:
        await agent_socket.send('{"v":1,"t":"exit"}')
        assert (await receive(agent_socket))["reason"] == "agent_exit"
    after = datetime.now(UTC)

    def found(**filters: str) -> list[str]:
        response = admin_get(deployment, "/admin/api/history", admin_cookie, **filters)
        assert response.status_code == 200, response.text
        rest = httpx.get(
            f"{deployment.url}/api/v1/sessions",
            params=filters,
            headers={"Authorization": f"Bearer {api_key}"},
        )
        assert response.json() == rest.json(), "the same search, the same answer"
        return [record["session_id"] for record in response.json()]

    assert found(end_reason="admin_ended", agent=ended_by_admin) == [forced_id]
    assert found(agent=exited) == [exited_id]
    assert found(agent=exited, end_reason="admin_ended") == []
    assert found(site="shop", since=before.isoformat(), until=after.isoformat()) == [
        exited_id,
        forced_id,
    ]
    assert found(agent=ended_by_admin, since=after.isoformat()) == []
    assert found(agent=ended_by_admin, until=before.isoformat()) == []

    [record] = admin_get(
        deployment, "/admin/api/history", admin_cookie, agent=ended_by_admin
    ).json()
    assert record["end_reason"] == "admin_ended"
    assert record["ended_at"] is not None
    assert record["duration_seconds"] >= 0

    invalid = admin_get(deployment, "/admin/api/history", admin_cookie, end_reason="bored")
    assert invalid.status_code == 422
    assert invalid.json()["error"] == "invalid_request"
    assert "end_reason" in invalid.json()["text"]
