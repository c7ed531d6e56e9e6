"""The integration REST API over real HTTP: API keys, sites, DOM restrictions, OpenAPI."""

from __future__ import annotations

import itertools

import httpx
import pytest
from sqlalchemy import select

from cobrowse.store.db import Database
from cobrowse.store.models import AuditEvent
from tests.support import Deployment, run_async

_site_numbers = itertools.count(1)

DEFAULTS = {"mask_payment_cards": True, "disable_submit": True, "rules": []}
CHECKOUT = {
    "mask_payment_cards": False,
    "disable_submit": True,
    "rules": [
        {"pattern": "*", "mask": ["#email"], "disable": []},
        {"pattern": "/checkout*", "mask": ["#iban", "#email"], "disable": ["#delete-account"]},
    ],
}


@pytest.fixture
def site(deployment: Deployment) -> str:
    """A newly registered site, so no test sees another's restrictions."""
    number = next(_site_numbers)
    return deployment.add_site(f"api-site-{number}", [f"https://api-site-{number}.example"])


def api(deployment: Deployment, key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.Client(base_url=f"{deployment.url}/api/v1", headers=headers)


def audit_events(deployment: Deployment, kind: str) -> list[AuditEvent]:
    found: list[AuditEvent] = []

    async def read() -> None:
        db = Database(deployment.settings.database_url)
        try:
            async with db.sessions() as tx:
                found.extend(
                    (await tx.scalars(select(AuditEvent).where(AuditEvent.kind == kind))).all()
                )
        finally:
            await db.close()

    run_async(read)
    return found


@pytest.mark.parametrize(
    "authorization", [None, "Bearer cbk_not-a-key", "Bearer", "Basic dXNlcjpwYXNz", "cbk_x"]
)
def test_requests_without_a_valid_key_are_refused(
    deployment: Deployment, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    for method, path in (
        ("GET", "/sites"),
        ("GET", "/sites/shop/restrictions"),
        ("PUT", "/sites/shop/restrictions"),
        ("GET", "/sites/shop/restrictions/effective?path=/"),
    ):
        response = httpx.request(
            method, f"{deployment.url}/api/v1{path}", headers=headers, json=DEFAULTS
        )
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"].startswith("Bearer")
        body = response.json()
        assert body["error"] == "unauthorized"
        assert "cobrowse api-keys create" in body["text"] or "not valid" in body["text"]


def test_sites_are_listed_with_their_origins(deployment: Deployment, api_key: str) -> None:
    with api(deployment, api_key) as client:
        response = client.get("/sites")
    assert response.status_code == 200
    shop = next(site for site in response.json() if site["name"] == "shop")
    assert shop["origins"] == sorted(
        {
            deployment.site_urls["shop"],
            deployment.site_urls["shop"].replace("localhost", "127.0.0.1"),
        }
    )


def test_a_site_nobody_configured_has_the_defaults(
    deployment: Deployment, api_key: str, site: str
) -> None:
    with api(deployment, api_key) as client:
        response = client.get(f"/sites/{site}/restrictions")
    assert response.status_code == 200
    assert response.json() == DEFAULTS


def test_restrictions_put_are_read_back_and_audited(
    deployment: Deployment, api_key: str, site: str
) -> None:
    with api(deployment, api_key) as client:
        saved = client.put(f"/sites/{site}/restrictions", json=CHECKOUT)
        read = client.get(f"/sites/{site}/restrictions")
    assert saved.status_code == 200, saved.text
    assert saved.json() == CHECKOUT
    assert read.json() == CHECKOUT
    changes = audit_events(deployment, "restrictions_changed")
    [event] = [event for event in changes if event.detail["site"] == site]
    assert event.actor == "api"
    assert str(event.detail["api_key"]).startswith("key-")


def test_a_partial_document_gets_the_defaults(
    deployment: Deployment, api_key: str, site: str
) -> None:
    with api(deployment, api_key) as client:
        saved = client.put(f"/sites/{site}/restrictions", json={"rules": [{"pattern": "/a"}]})
    assert saved.json() == {**DEFAULTS, "rules": [{"pattern": "/a", "mask": [], "disable": []}]}


def test_live_sessions_are_told_of_new_restrictions(
    deployment: Deployment, api_key: str, site: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    told: list[tuple[str, object]] = []

    async def restrictions_changed(site_name: str, restrictions: object) -> None:
        told.append((site_name, restrictions))

    monkeypatch.setattr(
        deployment.services.live, "restrictions_changed", restrictions_changed, raising=False
    )
    with api(deployment, api_key) as client:
        assert client.put(f"/sites/{site}/restrictions", json=CHECKOUT).status_code == 200
        refused = client.put(f"/sites/{site}/restrictions", json={"rules": [{"pattern": "nope"}]})
    assert refused.status_code == 422
    assert told == [(site, CHECKOUT)], "told once, of the saved restrictions only"


def test_an_invalid_selector_is_refused_naming_it(
    deployment: Deployment, api_key: str, site: str
) -> None:
    invalid = {"rules": [{"pattern": "/a"}, {"pattern": "/checkout*", "mask": ["#ok", "#a["]}]}
    with api(deployment, api_key) as client:
        client.put(f"/sites/{site}/restrictions", json=CHECKOUT)
        response = client.put(f"/sites/{site}/restrictions", json=invalid)
        after = client.get(f"/sites/{site}/restrictions")
    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid_restrictions",
        "text": f'site {site}, rule 2: invalid mask selector "#a[": '
        "Malformed attribute selector at position 2",
    }
    assert after.json() == CHECKOUT, "nothing was saved"


def test_an_invalid_pattern_is_refused_naming_it(
    deployment: Deployment, api_key: str, site: str
) -> None:
    with api(deployment, api_key) as client:
        response = client.put(
            f"/sites/{site}/restrictions",
            json={"rules": [{"pattern": "/search?q=*", "disable": ["#go"]}]},
        )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_restrictions"
    assert body["text"].startswith(f'site {site}, rule 1: invalid pattern "/search?q=*": ')


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"rules": [{"pattern": "/a", "hide": ["#x"]}]}, "body.rules.0.hide"),
        ({"disable_submit": "false"}, "body.disable_submit"),
        ({"rules": [{"mask": ["#a"]}]}, "body.rules.0.pattern"),
        ({"rules": [{"pattern": "/a", "mask": "#a"}]}, "body.rules.0.mask"),
        ([], "body"),
    ],
)
def test_a_malformed_document_is_refused_naming_the_field(
    deployment: Deployment, api_key: str, site: str, document: object, named: str
) -> None:
    with api(deployment, api_key) as client:
        response = client.put(f"/sites/{site}/restrictions", json=document)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert named in body["text"]


def test_an_unknown_site_is_not_found(deployment: Deployment, api_key: str) -> None:
    with api(deployment, api_key) as client:
        responses = [
            client.get("/sites/nosuch/restrictions"),
            client.put("/sites/nosuch/restrictions", json=CHECKOUT),
            client.get("/sites/nosuch/restrictions/effective", params={"path": "/"}),
        ]
    for response in responses:
        assert response.status_code == 404
        assert response.json() == {
            "error": "unknown_site",
            "text": "There is no site named 'nosuch'.",
        }


def test_effective_restrictions_merge_the_rules_matching_a_page(
    deployment: Deployment, api_key: str, site: str
) -> None:
    with api(deployment, api_key) as client:
        client.put(f"/sites/{site}/restrictions", json=CHECKOUT)
        checkout = client.get(
            f"/sites/{site}/restrictions/effective", params={"path": "/checkout/payment"}
        )
        home = client.get(f"/sites/{site}/restrictions/effective", params={"path": "/"})
        relative = client.get(f"/sites/{site}/restrictions/effective", params={"path": "x"})
    assert checkout.json() == {
        "mask": ["#email", "#iban"],
        "disable": ["#delete-account"],
        "mask_payment_cards": False,
        "disable_submit": True,
    }
    assert home.json()["mask"] == ["#email"]
    assert home.json()["disable"] == []
    assert relative.status_code == 422
    assert "query.path" in relative.json()["text"]


def test_unknown_api_paths_answer_in_the_api_error_shape(
    deployment: Deployment, api_key: str
) -> None:
    with api(deployment, api_key) as client:
        missing = client.get("/nothing-here")
        wrong_method = client.delete("/sites")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"


def test_the_openapi_document_describes_every_endpoint(deployment: Deployment) -> None:
    response = httpx.get(f"{deployment.url}/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["servers"] == [{"url": "/api/v1"}]
    paths = document["paths"]
    assert set(paths) >= {
        "/sites",
        "/sites/{name}/restrictions",
        "/sites/{name}/restrictions/effective",
    }
    assert set(paths["/sites/{name}/restrictions"]) == {"get", "put"}
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert operation["summary"], (method, path)
            assert operation["description"], (method, path)
            assert operation["security"] == [{"HTTPBearer": []}], (method, path)
            assert "401" in operation["responses"], (method, path)
    put = paths["/sites/{name}/restrictions"]["put"]
    assert put["operationId"] == "put_restrictions"
    assert set(put["responses"]) == {"200", "401", "404", "422"}
    rule = document["components"]["schemas"]["RestrictionRule"]
    assert rule["additionalProperties"] is False
    assert "glob" in rule["properties"]["pattern"]["description"].lower()


def test_interactive_docs_that_load_scripts_from_elsewhere_are_not_served(
    deployment: Deployment,
) -> None:
    for path in ("/docs", "/redoc"):
        assert httpx.get(f"{deployment.url}/api/v1{path}").status_code == 404
