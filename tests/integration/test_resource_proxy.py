"""The resource proxy over real sockets: a cobrowse server, websites on localhost
ports that record what they are asked, and the agent's browser played by httpx."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest

from cobrowse.core.resource_urls import parse_proxied_path, proxied_url
from cobrowse.store.db import Database
from cobrowse.store.sites import SiteStore
from tests.integration.conftest import customer_socket
from tests.integration.test_sockets import receive, start
from tests.resource_origin import PNG, WOFF2, Origin
from tests.support import Deployment, ServerThread, deploy, free_port, plain_server, run_async

MAX_BYTES = 256 * 1024


@dataclass
class Websites:
    deployment: Deployment
    origin: Origin
    shop: str
    """The site with the unsafe switch on: its resources are on localhost."""
    cdn: str
    """An extra host the shop allows."""
    elsewhere: str
    """A host no site allows."""
    strict: str
    """A site on localhost without the switch: the proxy must refuse it."""


def allow_resources(deployment: Deployment, site: str, hosts: list[str], private: bool) -> None:
    async def change() -> None:
        db = Database(deployment.settings.database_url)
        try:
            await SiteStore(db).change_resources(site, hosts, allow_private_addresses=private)
        finally:
            await db.close()

    run_async(change)


@pytest.fixture(scope="module")
def websites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Websites]:
    origin = Origin()
    ports = {name: free_port() for name in ("shop", "cdn", "elsewhere", "strict")}
    urls = {name: f"http://localhost:{port}" for name, port in ports.items()}
    origin.cdn_url, origin.elsewhere_url = urls["cdn"], urls["elsewhere"]
    servers: list[ServerThread] = [plain_server(origin.app(), port) for port in ports.values()]
    for server in servers:
        server.start()
    deployment = deploy(
        tmp_path_factory.mktemp("proxy"),
        {},
        resource_max_bytes=MAX_BYTES,
        resource_timeout_seconds=1.5,
    )
    deployment.add_site("shop", [urls["shop"]])
    allow_resources(deployment, "shop", [f"localhost:{ports['cdn']}"], private=True)
    deployment.add_site("strict", [urls["strict"]])
    yield Websites(deployment, origin, urls["shop"], urls["cdn"], urls["elsewhere"], urls["strict"])
    origin.release_slow.set()
    deployment.stop()
    for server in servers:
        server.stop()


@dataclass
class LiveSession:
    id: str
    resource_token: str


@asynccontextmanager
async def live_session(websites: Websites, site_url: str) -> AsyncIterator[LiveSession]:
    """A session the customer of ``site_url`` started, live while the block runs."""
    async with customer_socket(websites.deployment, site_url) as customer:
        session_id = await start(customer)
        session = await websites.deployment.services.live.state.get(session_id)
        assert session is not None
        yield LiveSession(session_id, session.resource_token)


@pytest.fixture
async def shop_session(websites: Websites) -> AsyncIterator[LiveSession]:
    async with live_session(websites, websites.shop) as session:
        yield session


@pytest.fixture
async def browser(websites: Websites) -> AsyncIterator[httpx.AsyncClient]:
    """The agent's browser: it talks to cobrowse only."""
    async with httpx.AsyncClient(base_url=websites.deployment.url) as client:
        yield client


async def load(
    browser: httpx.AsyncClient, session: LiveSession, url: str, **headers: str
) -> httpx.Response:
    return await browser.get(proxied_url(session.id, session.resource_token, url), headers=headers)


async def test_an_allowed_image_is_served_with_only_cobrowse_s_headers(
    websites: Websites, shop_session: LiveSession, browser: httpx.AsyncClient
) -> None:
    response = await load(browser, shop_session, f"{websites.shop}/img/logo.png")
    assert response.status_code == 200, response.text
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert response.headers["access-control-allow-origin"] == "*"
    assert re.fullmatch(r"private, max-age=(29[0-9]|300)", response.headers["cache-control"])
    assert "set-cookie" not in response.headers
    assert "x-upstream-secret" not in response.headers


async def test_a_cached_resource_does_not_reach_the_website_again(
    websites: Websites, browser: httpx.AsyncClient
) -> None:
    async with live_session(websites, websites.shop) as first:
        assert (await load(browser, first, f"{websites.cdn}/img/cdn.png")).status_code == 200
    async with live_session(websites, websites.shop) as second:  # the cache is not per session
        again = await load(browser, second, f"{websites.cdn}/img/cdn.png")
    assert again.status_code == 200
    assert again.content == PNG
    assert websites.origin.hits("/img/cdn.png") == 1


async def test_the_website_never_gets_cookies_credentials_or_referer(
    websites: Websites, shop_session: LiveSession, browser: httpx.AsyncClient
) -> None:
    for _ in range(2):  # the second time, after the website set a cookie
        response = await load(
            browser,
            shop_session,
            f"{websites.shop}/uncached.png",
            Cookie="cobrowse_agent=console-secret; shop_session=customer-secret",
            Authorization="Bearer agent-secret",
            Referer=f"{websites.deployment.url}/agent",
        )
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
    seen = [request for request in websites.origin.requests if request.path == "/uncached.png"]
    assert len(seen) == 2
    for request in seen:
        assert "cookie" not in request.headers
        assert "authorization" not in request.headers
        assert "referer" not in request.headers
        assert request.headers["user-agent"].startswith("cobrowse-resource-proxy/")


async def test_credentials_in_a_resource_url_are_never_sent(
    websites: Websites, shop_session: LiveSession, browser: httpx.AsyncClient
) -> None:
    url = websites.shop.replace("http://", "http://alice:pw@") + "/fonts/shop.woff2"
    response = await load(browser, shop_session, url)
    assert response.status_code == 200
    assert response.content == WOFF2
    fetched = [request for request in websites.origin.requests if request.path.startswith("/fonts")]
    assert fetched
    assert all("authorization" not in request.headers for request in fetched)


async def test_a_host_the_site_does_not_allow_is_refused(
    websites: Websites, shop_session: LiveSession, browser: httpx.AsyncClient
) -> None:
    before = len(websites.origin.requests)
    response = await load(browser, shop_session, f"{websites.elsewhere}/img/logo.png")
    assert response.status_code == 403
    assert response.text == "This site does not allow resources from that host."
    assert len(websites.origin.requests) == before


async def test_a_site_on_a_private_address_is_refused_without_the_unsafe_switch(
    websites: Websites, browser: httpx.AsyncClient
) -> None:
    before = len(websites.origin.requests)
    async with live_session(websites, websites.strict) as session:
        response = await load(browser, session, f"{websites.strict}/img/logo.png")
    assert response.status_code == 403
    assert re.search(r"resolves to (127\.0\.0\.1|::1) \(loopback\)", response.text)
    assert "does not allow private addresses" in response.text
    assert len(websites.origin.requests) == before, "nothing was sent to the website"


async def test_a_redirect_to_a_host_the_site_does_not_allow_is_not_followed(
    websites: Websites, shop_session: LiveSession, browser: httpx.AsyncClient
) -> None:
    target = f"{websites.elsewhere}/img/logo.png"
    response = await load(browser, shop_session, f"{websites.shop}/redirect?to={target}")
    assert response.status_code == 403
    assert response.text == "The website redirected to a host this site does not allow."


async def test_a_redirect_to_an_allowed_host_is_followed(
    websites: Websites, shop_session: LiveSession, browser: httpx.AsyncClient
) -> None:
    target = f"{websites.cdn}/fonts/shop.woff2"
    response = await load(browser, shop_session, f"{websites.shop}/redirect?to={target}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "font/woff2"


@pytest.mark.parametrize("path", ["/big.png", "/big-declared.png"])
async def test_a_resource_over_the_size_limit_is_refused(
    websites: Websites, shop_session: LiveSession, browser: httpx.AsyncClient, path: str
) -> None:
    response = await load(browser, shop_session, f"{websites.shop}{path}")
    assert response.status_code == 403
    assert response.text == f"The resource is larger than the limit of {MAX_BYTES} bytes."


@pytest.mark.parametrize(
    ("path", "declared"),
    [
        ("/page.html", "text/html"),
        ("/app.js", "text/javascript"),
        ("/data.json", "application/json"),
    ],
)
async def test_pages_and_scripts_are_refused(
    websites: Websites,
    shop_session: LiveSession,
    browser: httpx.AsyncClient,
    path: str,
    declared: str,
) -> None:
    response = await load(browser, shop_session, f"{websites.shop}{path}")
    assert response.status_code == 403
    assert response.text == f"cobrowse does not serve {declared} to the agent."
    assert response.headers["content-type"].startswith("text/plain")


async def test_unlabelled_resources_are_served_only_when_they_are_images_or_fonts(
    websites: Websites, shop_session: LiveSession, browser: httpx.AsyncClient
) -> None:
    image = await load(browser, shop_session, f"{websites.shop}/unlabelled.png")
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    page = await load(browser, shop_session, f"{websites.shop}/unlabelled.html")
    assert page.status_code == 403


async def test_an_svg_is_served_under_a_policy_that_runs_no_script(
    websites: Websites, shop_session: LiveSession, browser: httpx.AsyncClient
) -> None:
    response = await load(browser, shop_session, f"{websites.shop}/icon.svg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert "sandbox" in response.headers["content-security-policy"]
    assert "script-src" not in response.headers["content-security-policy"]


async def test_a_failing_or_slow_website_is_a_bad_gateway_or_a_timeout(
    websites: Websites, shop_session: LiveSession, browser: httpx.AsyncClient
) -> None:
    missing = await load(browser, shop_session, f"{websites.shop}/missing.png")
    assert (missing.status_code, missing.text) == (502, "The website answered 404.")
    slow = await load(browser, shop_session, f"{websites.shop}/slow.png")
    assert (slow.status_code, slow.text) == (504, "The website took too long to answer.")


def decoded_links(css: str) -> dict[str, str]:
    """Each proxy link in a stylesheet, by the URL it stands for."""
    links = re.findall(r'"(/resources/[^"]+)"', css)
    return {parse_proxied_path(link).url: link for link in links}


async def test_a_stylesheet_s_references_go_through_the_proxy_too(
    websites: Websites, shop_session: LiveSession, browser: httpx.AsyncClient
) -> None:
    response = await load(browser, shop_session, f"{websites.shop}/style.css")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    css = response.text
    links = decoded_links(css)
    assert set(links) == {
        f"{websites.shop}/more.css",
        f"{websites.shop}/fonts/shop.woff2",
        f"{websites.shop}/img/logo.png",
        f"{websites.cdn}/img/cdn.png",
    }
    assert f'@import "{links[f"{websites.shop}/more.css"]}";' in css
    assert '.tracker { background: url("about:invalid") }' in css
    assert websites.elsewhere not in css
    assert all(
        f"/resources/{shop_session.id}/{shop_session.resource_token}/" in link
        for link in links.values()
    )

    # The agent's browser follows them, and fonts load across origins.
    font = await browser.get(links[f"{websites.shop}/fonts/shop.woff2"])
    assert font.status_code == 200
    assert font.content == WOFF2
    assert font.headers["access-control-allow-origin"] == "*"
    imported = await browser.get(links[f"{websites.shop}/more.css"])
    assert imported.text == ".more { color: red }"


async def test_a_cached_stylesheet_is_rewritten_for_each_session(
    websites: Websites, browser: httpx.AsyncClient
) -> None:
    async with live_session(websites, websites.shop) as first:
        css_first = (await load(browser, first, f"{websites.shop}/style.css")).text
    async with live_session(websites, websites.shop) as second:
        css_second = (await load(browser, second, f"{websites.shop}/style.css")).text
    assert f"/resources/{second.id}/{second.resource_token}/" in css_second
    assert first.resource_token not in css_second
    assert decoded_links(css_first).keys() == decoded_links(css_second).keys()


async def test_a_wrong_token_or_an_unknown_session_is_refused(
    websites: Websites, shop_session: LiveSession, browser: httpx.AsyncClient
) -> None:
    url = f"{websites.shop}/img/logo.png"
    token = shop_session.resource_token
    wrong = LiveSession(shop_session.id, token[:-1] + ("B" if token.endswith("A") else "A"))
    refused = await load(browser, wrong, url)
    assert refused.status_code == 403
    assert refused.text == "This resource link is not valid: its co-browse session is over."
    unknown = "100000000" if shop_session.id != "100000000" else "100000001"
    assert (await load(browser, LiveSession(unknown, token), url)).status_code == 403
    assert (await load(browser, shop_session, url)).status_code == 200


async def test_the_links_of_an_ended_session_are_dead(
    websites: Websites, browser: httpx.AsyncClient
) -> None:
    url = f"{websites.shop}/img/logo.png"
    async with customer_socket(websites.deployment, websites.shop) as customer:
        session_id = await start(customer)
        live = await websites.deployment.services.live.state.get(session_id)
        assert live is not None
        session = LiveSession(session_id, live.resource_token)
        assert (await load(browser, session, url)).status_code == 200
        await customer.send('{"v":1,"t":"exit"}')
        assert (await receive(customer))["reason"] == "customer_exit"
    refused = await load(browser, session, url)
    assert refused.status_code == 403
    assert refused.text == "This resource link is not valid: its co-browse session is over."


async def test_a_link_that_is_not_a_resource_link_is_not_found(
    shop_session: LiveSession, browser: httpx.AsyncClient
) -> None:
    encoded = base64.urlsafe_b64encode(b"ftp://x.example/a.png").decode().rstrip("=")
    broken = await browser.get(
        f"/resources/{shop_session.id}/{shop_session.resource_token}/{encoded}"
    )
    assert (broken.status_code, broken.text) == (404, "This is not a resource link.")
