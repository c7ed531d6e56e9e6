"""HTTP endpoints over a real socket: sign-in, the script, the site check, headers."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from cobrowse.store.db import Database
from cobrowse.store.models import AgentLogin, AuditEvent
from tests.support import AGENT_PASSWORD, Deployment, run_async, sign_in_cookie


def test_sign_in_sets_a_secure_httponly_samesite_cookie(deployment: Deployment) -> None:
    deployment.add_agent("cookie-agent")
    response = httpx.post(
        f"{deployment.url}/agent/sign-in",
        data={"username": "cookie-agent", "password": AGENT_PASSWORD},
        headers={"Origin": deployment.url},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/agent"
    attributes = [part.strip().lower() for part in response.headers["set-cookie"].split(";")]
    assert attributes[0].startswith("cobrowse_agent=")
    assert len(attributes[0]) > len("cobrowse_agent=") + 40
    assert "httponly" in attributes
    assert "secure" in attributes
    assert "samesite=strict" in attributes
    assert "path=/" in attributes


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(
    deployment: Deployment,
) -> None:
    deployment.add_agent("careful-agent")
    for username, password in (("careful-agent", "wrong password"), ("nobody", AGENT_PASSWORD)):
        response = httpx.post(
            f"{deployment.url}/agent/sign-in",
            data={"username": username, "password": password},
            headers={"Origin": deployment.url},
        )
        assert response.status_code == 401
        assert "Wrong username or password." in response.text
        assert "set-cookie" not in response.headers


def test_cross_site_sign_in_is_refused(deployment: Deployment) -> None:
    deployment.add_agent("forged-agent")
    response = httpx.post(
        f"{deployment.url}/agent/sign-in",
        data={"username": "forged-agent", "password": AGENT_PASSWORD},
        headers={"Origin": "http://evil.example"},
    )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_console_requires_sign_in_and_sign_out_ends_it(deployment: Deployment) -> None:
    signed_out = httpx.get(f"{deployment.url}/agent")
    assert 'name="username"' in signed_out.text
    assert "Sign in" in signed_out.text

    cookie = sign_in_cookie(deployment, deployment.add_agent("leaving-agent"))
    console = httpx.get(f"{deployment.url}/agent", headers={"Cookie": cookie})
    assert "Session ID" in console.text
    assert "leaving-agent" in console.text

    out = httpx.post(
        f"{deployment.url}/agent/sign-out",
        headers={"Cookie": cookie, "Origin": deployment.url},
    )
    assert out.status_code == 303
    assert 'cobrowse_agent=""' in out.headers["set-cookie"]
    after = httpx.get(f"{deployment.url}/agent", headers={"Cookie": cookie})
    assert 'name="username"' in after.text, "the old cookie no longer signs in"


def test_console_pages_carry_a_strict_content_security_policy(deployment: Deployment) -> None:
    page = httpx.get(f"{deployment.url}/agent")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"


def test_customer_script_is_served_as_javascript(deployment: Deployment) -> None:
    script = httpx.get(f"{deployment.url}/cobrowse.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "Cobrowse" in script.text


def test_site_check_answers_registered_and_unregistered_origins(
    deployment: Deployment, site_origin: str
) -> None:
    known = httpx.get(f"{deployment.url}/customer/config", headers={"Origin": site_origin})
    assert known.status_code == 200
    # The site is on localhost: out of the proxy's reach (no private-address switch).
    assert known.json() == {"site": "shop", "proxied": []}
    assert known.headers["access-control-allow-origin"] == site_origin

    unknown = httpx.get(
        f"{deployment.url}/customer/config", headers={"Origin": "https://evil.example"}
    )
    assert unknown.status_code == 403
    assert unknown.json()["error"] == "origin_not_registered"
    assert "https://evil.example" in unknown.json()["text"]


def test_sign_in_stores_only_a_digest_of_the_cookie_token(deployment: Deployment) -> None:
    cookie = sign_in_cookie(deployment, deployment.add_agent("digest-agent"))
    token = cookie.split("=", 1)[1]

    async def stored_digests() -> list[str]:
        db = Database(deployment.settings.database_url)
        try:
            async with db.sessions() as tx:
                return list(await tx.scalars(select(AgentLogin.token_digest)))
        finally:
            await db.close()

    digests: list[str] = []

    async def collect() -> None:
        digests.extend(await stored_digests())

    run_async(collect)
    assert digests
    assert token not in digests


def test_audit_log_records_sign_ins_and_failures(deployment: Deployment) -> None:
    deployment.add_agent("audited-agent")
    httpx.post(
        f"{deployment.url}/agent/sign-in",
        data={"username": "audited-agent", "password": "not the password"},
        headers={"Origin": deployment.url},
    )
    sign_in_cookie(deployment, "audited-agent")

    async def kinds() -> list[str]:
        db = Database(deployment.settings.database_url)
        try:
            async with db.sessions() as tx:
                rows = await tx.scalars(
                    select(AuditEvent.kind).where(AuditEvent.actor == "audited-agent")
                )
                return list(rows)
        finally:
            await db.close()

    found: list[str] = []

    async def collect() -> None:
        found.extend(await kinds())

    run_async(collect)
    assert found == ["sign_in_failed", "signed_in"]
