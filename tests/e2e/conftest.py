"""Browser tests: the real customer script and agent console in Debian's Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from cobrowse.demo.website import SAMPLE_SITE
from tests.browser import ChromiumMissing, launch_chromium
from tests.support import Deployment, deploy

TEST_PAGES = Path(__file__).parent / "pages"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    try:
        launched = launch_chromium(playwright)
    except ChromiumMissing as missing:
        pytest.fail(str(missing))
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    running = deploy(
        tmp_path_factory.mktemp("cobrowse"), {"shop": SAMPLE_SITE, "pages": TEST_PAGES}
    )
    yield running
    running.stop()


@pytest.fixture
def agent_name(deployment: Deployment, request: pytest.FixtureRequest) -> str:
    """A fresh agent account per test, so the one-session-per-agent rule never leaks."""
    name = re.sub(r"[^A-Za-z0-9]", "-", request.node.name)[:48]
    return deployment.add_agent(name)


def page_of(browser: Browser, width: int, height: int) -> Iterator[Page]:
    """A page in a browser context of its own (its own cookies), for one person."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def customer(browser: Browser) -> Iterator[Page]:
    yield from page_of(browser, 1000, 700)


@pytest.fixture
def other_customer(browser: Browser) -> Iterator[Page]:
    yield from page_of(browser, 1000, 700)


@pytest.fixture
def agent(browser: Browser) -> Iterator[Page]:
    yield from page_of(browser, 1400, 1000)
