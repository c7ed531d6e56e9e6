"""Run the demo: cobrowse server, sample website, a demo agent and a demo admin in one
process."""

from __future__ import annotations

import asyncio
import secrets

import click
import uvicorn

from cobrowse.app import create_app
from cobrowse.config import Settings
from cobrowse.core.restrictions import Rule, SiteRestrictions
from cobrowse.demo.website import DEMO_WIDGETS, create_site_app
from cobrowse.server import uvicorn_config
from cobrowse.store.sites import SiteError
from cobrowse.store.users import UserRole
from cobrowse.web.services import Services

DEMO_AGENT = "agent"
DEMO_ADMIN = "admin"
DEMO_SITE = "demo"


async def run_demo(settings: Settings, site_port: int) -> None:
    services = Services.build(settings)
    await services.db.migrate()
    site_origins = [f"http://localhost:{site_port}", f"http://127.0.0.1:{site_port}"]
    try:
        # The sample website is on localhost: the resource proxy may fetch its
        # stylesheet and images only with the unsafe private-address switch on, which
        # is right for a demo on one machine and wrong for anything else.
        await services.sites.add(DEMO_SITE, site_origins, allow_private_addresses=True)
    except SiteError as exc:
        raise click.ClickException(f"cannot register the sample website: {exc}") from None
    await _show_off_restrictions(services)
    await _give_a_phone_number(services)
    passwords = {DEMO_AGENT: secrets.token_urlsafe(9), DEMO_ADMIN: secrets.token_urlsafe(9)}
    await services.users.add(DEMO_AGENT, UserRole.AGENT, passwords[DEMO_AGENT])
    await services.users.add(DEMO_ADMIN, UserRole.ADMIN, passwords[DEMO_ADMIN])

    cobrowse_url = f"http://localhost:{settings.port}"
    server = uvicorn.Server(
        uvicorn_config(create_app(settings, services), settings, settings.host, settings.port)
    )
    website = uvicorn.Server(
        uvicorn.Config(
            create_site_app(cobrowse_url, widgets=DEMO_WIDGETS),
            host=settings.host,
            port=site_port,
            log_config=None,
            access_log=False,
        )
    )
    website_task = asyncio.create_task(website.serve())
    banner_task = asyncio.create_task(_banner(server, website, cobrowse_url, site_port, passwords))
    try:
        await server.serve()  # started last, so Ctrl+C reaches it
    finally:
        banner_task.cancel()
        website.should_exit = True
        await website_task


# The sample shop's own rules, on top of the defaults (password and card fields masked,
# "Place order" disabled for the agent): the e-mail address is masked too.
DEMO_RESTRICTIONS = SiteRestrictions(
    rules=(Rule(pattern="/checkout.html", mask=("#email",)),),
)


async def _show_off_restrictions(services: Services) -> None:
    """Give the sample site a masking rule, unless an administrator already set some."""
    if not (await services.restrictions.get(DEMO_SITE)).rules:
        await services.restrictions.put(DEMO_SITE, DEMO_RESTRICTIONS)


DEMO_PHONE = "+1 555 0100"
"""A fictional number (555-01xx is reserved for fiction) for the CallUs card."""


async def _give_a_phone_number(services: Services) -> None:
    """The sample site's support number, unless an administrator already set some."""
    site = await services.sites.site(DEMO_SITE)
    if site is not None and not site.phones:
        await services.sites.change_phones(DEMO_SITE, add=[DEMO_PHONE], label="Support (demo)")


async def _banner(
    server: uvicorn.Server,
    website: uvicorn.Server,
    cobrowse_url: str,
    site_port: int,
    passwords: dict[str, str],
) -> None:
    while not (server.started and website.started):  # noqa: ASYNC110 (uvicorn offers no event)
        await asyncio.sleep(0.05)
    click.echo(
        "\n".join(
            (
                "",
                "cobrowse demo is running.",
                f"  Sample website (the customer):  http://localhost:{site_port}/",
                f"  Agent console:                  {cobrowse_url}/agent",
                f"  Agent sign-in:                  username {DEMO_AGENT}   "
                f"password {passwords[DEMO_AGENT]}",
                f"  Admin console:                  {cobrowse_url}/admin",
                f"  Admin sign-in:                  username {DEMO_ADMIN}   "
                f"password {passwords[DEMO_ADMIN]}",
                "",
                "Sign in to the agent console in one browser window and open the website in",
                'another. On the website, "Contact us" offers:',
                "  Chat: write to the agent; the console lists the chat: Accept it and reply.",
                '    In the chat (or under "Contact us") press Co-browse: the agent joins',
                "    from the chat with one click. Ending the chat ends co-browse too.",
                '  Call: a phone number and "Browse with you". Pretend you called: in the',
                '    console press "Incoming call", then join with the ID the website shows.',
                '    "End call" in the console ends co-browse too.',
                "The admin console lists the live session, can end it, and shows the history.",
                "On the checkout page the password, card and e-mail fields are hidden from",
                'the agent, and only the customer can press "Place order".',
                "Press Ctrl+C to stop.",
                "",
            )
        )
    )
