"""The `cobrowse` command (PRODUCT.md §10)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
import uvicorn

from cobrowse.config import ConfigError, Settings, load_settings
from cobrowse.logs import configure_logging
from cobrowse.store.db import Database
from cobrowse.store.sites import SiteError, SiteStore
from cobrowse.store.users import UserError, UserRole, UserStore

_Result = TypeVar("_Result")

config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML configuration file (every key can also be set as COBROWSE_<KEY>).",
)


def _settings(config_file: Path | None, **flags: object) -> Settings:
    try:
        return load_settings(config_file, **flags)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _with_database(settings: Settings, work: Callable[[Database], Awaitable[_Result]]) -> _Result:
    async def run() -> _Result:
        db = Database(settings.database_url)
        try:
            await db.migrate()
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())


@click.group()
@click.version_option(package_name="cobrowse")
def main() -> None:
    """cobrowse: self-hosted co-browsing for customer support."""


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default 8000).")
@config_option
def serve(host: str | None, port: int | None, config_file: Path | None) -> None:
    """Run the cobrowse server."""
    from cobrowse.app import create_app
    from cobrowse.server import uvicorn_config

    settings = _settings(config_file, host=host, port=port)
    configure_logging(settings.log_level)
    app = create_app(settings)
    uvicorn.Server(uvicorn_config(app, settings, settings.host, settings.port)).run()


@main.command()
@click.option("--port", type=int, default=8000, show_default=True, help="cobrowse server port.")
@click.option("--site-port", type=int, default=8001, show_default=True, help="Sample website port.")
@config_option
def demo(port: int, site_port: int, config_file: Path | None) -> None:
    """Start the server, a sample website and a demo agent, all on this machine."""
    from cobrowse.demo.run import run_demo

    settings = _settings(config_file, port=port)
    configure_logging(settings.log_level)
    asyncio.run(run_demo(settings, site_port))


@main.group()
def users() -> None:
    """Agents and administrators."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice([role.value for role in UserRole]), required=True)
@click.option("--password", default=None, help="Asked for when not given.")
@config_option
def users_add(username: str, role: str, password: str | None, config_file: Path | None) -> None:
    """Add a user (or set a new password and role for an existing one)."""
    settings = _settings(config_file)
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    assert password is not None

    async def add(db: Database) -> str:
        account = await UserStore(db).add(username, UserRole(role), password)
        return f"{account.role.value} {account.username} is ready"

    try:
        click.echo(_with_database(settings, add))
    except UserError as exc:
        raise click.ClickException(str(exc)) from None


@main.group()
def sites() -> None:
    """Websites allowed to embed the customer script."""


@sites.command("add")
@click.argument("name")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    required=True,
    help="An origin the site is served from, like https://www.example.com (repeatable).",
)
@config_option
def sites_add(name: str, origins: tuple[str, ...], config_file: Path | None) -> None:
    """Register a website (or add origins to an existing one)."""
    settings = _settings(config_file)

    async def add(db: Database) -> str:
        site = await SiteStore(db).add(name, list(origins))
        return f"site {site.name}: {', '.join(site.origins)}"

    try:
        click.echo(_with_database(settings, add))
    except SiteError as exc:
        raise click.ClickException(str(exc)) from None


if __name__ == "__main__":
    sys.exit(main())
