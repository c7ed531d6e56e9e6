"""The server filters the customer's stream before the agent gets it (core.stream_filter):
a crafted customer client, not a browser, sends hostile rrweb events."""

from __future__ import annotations

import json
from typing import Any

import httpx

from cobrowse.core.resource_urls import BLOCKED_REFERENCE, parse_proxied_path
from cobrowse.web.customer import FILTER_IN_THREAD_BYTES
from tests.integration.test_sockets import live_pair, receive, receive_raw
from tests.support import Deployment

EVIL = "https://evil.test"


def hostile_snapshot(page: str) -> list[dict[str, Any]]:
    body = [
        {"type": 2, "id": 10, "tagName": "script", "attributes": {"src": f"{EVIL}/x.js"},
         "childNodes": [{"type": 3, "id": 11, "textContent": "alert(1)"}]},
        {"type": 2, "id": 12, "tagName": "img",
         "attributes": {"src": f"{page}logo.png", "onerror": "alert(2)"}, "childNodes": []},
        {"type": 2, "id": 13, "tagName": "a", "attributes": {"href": "javascript:alert(3)"},
         "childNodes": []},
        {"type": 2, "id": 14, "tagName": "div",
         "attributes": {"style": f"background: url({EVIL}/bg.png)"}, "childNodes": []},
    ]  # fmt: skip
    html = {"type": 2, "id": 2, "tagName": "html", "attributes": {}, "childNodes": body}
    return [
        {"type": 4, "data": {"href": page, "width": 800, "height": 600}, "timestamp": 1},
        {"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": [html]}}, "timestamp": 2},
        {"type": 3, "data": {"source": 9, "id": 5, "commands": []}, "timestamp": 3},  # canvas
    ]


async def test_hostile_events_reach_the_agent_stripped_with_proxy_links(
    deployment: Deployment, site_origin: str, agent_cookie: str
) -> None:
    customer, agent, session_id = await live_pair(deployment, site_origin, agent_cookie)
    page = f"{site_origin}/"
    async with customer, agent:
        for event in hostile_snapshot(page):
            await customer.send(json.dumps({"v": 1, "t": "stream", "e": event}))
        # A frame after the dropped canvas event shows it was dropped, not delayed.
        await customer.send('{"v":1,"t":"pointer","x":1,"y":2}')

        meta = await receive(agent)
        assert meta["e"]["data"]["href"] == page
        snapshot_frame = await receive_raw(agent)
        assert (await receive(agent))["t"] == "pointer"

    assert "evil.test" not in snapshot_frame
    assert "alert" not in snapshot_frame
    snapshot = json.loads(snapshot_frame)
    assert snapshot["t"] == "stream"
    script, image, link, styled = snapshot["e"]["data"]["node"]["childNodes"][0]["childNodes"]
    assert (script["id"], script["tagName"], script["childNodes"]) == (10, "template", [])
    assert image["attributes"].keys() == {"src"}
    resource = parse_proxied_path(image["attributes"]["src"])
    assert resource.session_id == session_id
    assert resource.url == f"{page}logo.png"
    assert link["attributes"] == {}
    assert BLOCKED_REFERENCE in styled["attributes"]["style"]


async def test_events_of_a_type_rrweb_does_not_have_are_not_relayed(
    deployment: Deployment, site_origin: str, agent_cookie: str
) -> None:
    customer, agent, _ = await live_pair(deployment, site_origin, agent_cookie)
    async with customer, agent:
        await customer.send('{"v":1,"t":"stream","e":{"type":99}}')
        await customer.send('{"v":1,"t":"pointer","x":1,"y":2}')
        assert (await receive(agent))["t"] == "pointer"


async def test_the_console_and_its_mirror_load_only_from_cobrowse(deployment: Deployment) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{deployment.url}/agent")
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["img-src"] == "'self' data:"
    assert policy["font-src"] == "'self' data:"
    assert policy["media-src"] == "'self'"
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["script-src"] == "'self'"


async def test_a_big_snapshot_is_filtered_too(
    deployment: Deployment, site_origin: str, agent_cookie: str
) -> None:
    # Big enough to be filtered off the event loop (web.customer.FILTER_IN_THREAD_BYTES).
    rules = "".join(f".c{number} {{ color: red }}\n" for number in range(2000))
    css = f"{rules}body {{ background: url({EVIL}/big.png) }}"
    assert len(css) > FILTER_IN_THREAD_BYTES
    style = {"type": 2, "id": 3, "tagName": "style", "attributes": {}, "childNodes": [
        {"type": 3, "id": 4, "textContent": css, "isStyle": True}]}  # fmt: skip
    html = {"type": 2, "id": 2, "tagName": "html", "attributes": {}, "childNodes": [style]}
    snapshot = {"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": [html]}}}
    customer, agent, _ = await live_pair(deployment, site_origin, agent_cookie)
    async with customer, agent:
        await customer.send(json.dumps({"v": 1, "t": "stream", "e": snapshot}))
        relayed = await receive_raw(agent)
    assert ".c1999 { color: red }" in relayed
    assert "evil.test" not in relayed
    assert BLOCKED_REFERENCE in relayed
