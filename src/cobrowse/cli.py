"""The `cobrowse` command (PRODUCT.md §10)."""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import click
import uvicorn

from cobrowse.config import ConfigError, Settings, load_settings
from cobrowse.core import restriction_file
from cobrowse.core.restrictions import RestrictionError, SiteRestrictions
from cobrowse.core.session import EndReason
from cobrowse.logs import configure_logging
from cobrowse.store.api_keys import ApiKeyError, ApiKeyInfo, ApiKeyStore
from cobrowse.store.audit import AuditLog
from cobrowse.store.db import Database
from cobrowse.store.history import MAX_SEARCH_LIMIT, HistoryRecord, SessionHistory, utc
from cobrowse.store.restrictions import RestrictionStore
from cobrowse.store.sites import SiteError, SiteRecord, SiteStore, UnknownSite
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
    # What start-up created lives as long as the process: moved out of the garbage
    # collector's sight, a full collection under load pauses the relay far less
    # (BENCHMARKS.md, load: ~65 ms less per collection at 1,000 sessions).
    gc.collect()
    gc.freeze()
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


_UNSAFE_SWITCH_WARNING = (
    "WARNING: the resource proxy may now fetch the resources of site {name} from private, "
    "loopback and link-local addresses. This is unsafe anywhere but a demo or tests on "
    "this machine: a page of the site could make cobrowse reach services on its network."
)


@sites.command("add")
@click.argument("name")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    required=True,
    help="An origin the site is served from, like https://www.example.com (repeatable).",
)
@click.option(
    "--resource-host",
    "resource_hosts",
    multiple=True,
    help="Another host the site's page resources may be loaded from through cobrowse, "
    "like cdn.example.com, https://cdn.example.com:8443 or *.cdn.example.com (repeatable; "
    "the site's origins are always allowed).",
)
@click.option(
    "--allow-private-addresses",
    is_flag=True,
    default=None,
    help="UNSAFE, for a demo or tests on localhost only: let the resource proxy fetch this "
    "site's resources from private, loopback and link-local addresses.",
)
@config_option
def sites_add(
    name: str,
    origins: tuple[str, ...],
    resource_hosts: tuple[str, ...],
    allow_private_addresses: bool | None,
    config_file: Path | None,
) -> None:
    """Register a website (or add origins and resource hosts to an existing one)."""
    settings = _settings(config_file)

    async def add(db: Database) -> SiteRecord:
        site = await SiteStore(db).add(
            name, list(origins), resource_hosts, allow_private_addresses or None
        )
        if resource_hosts or allow_private_addresses:
            await AuditLog(db).record(
                "site_resources_changed",
                "cli",
                site=name,
                added=", ".join(resource_hosts) or None,
                allow_private_addresses=site.allow_private_addresses,
            )
        return site

    try:
        site = _with_database(settings, add)
    except SiteError as exc:
        raise click.ClickException(str(exc)) from None
    lines = [f"site {site.name}: {', '.join(site.origins)}"]
    if site.resource_hosts:
        lines.append(f"  resources also from: {', '.join(site.resource_hosts)}")
    if site.allow_private_addresses:
        lines.append(_private_addresses_line(site))
    click.echo("\n".join(lines))
    if allow_private_addresses:
        click.echo(_UNSAFE_SWITCH_WARNING.format(name=site.name), err=True)


@sites.command("resources")
@click.argument("name")
@click.option(
    "--add",
    "adding",
    multiple=True,
    metavar="HOST",
    help="Allow page resources from this host too, like cdn.example.com, "
    "https://cdn.example.com:8443 or *.cdn.example.com (repeatable).",
)
@click.option(
    "--remove", "removing", multiple=True, metavar="HOST", help="No longer allow HOST (repeatable)."
)
@click.option(
    "--allow-private-addresses/--refuse-private-addresses",
    default=None,
    help="UNSAFE when allowed, for a demo or tests on localhost only: whether the resource "
    "proxy may fetch this site's resources from private, loopback and link-local addresses "
    "(refused by default).",
)
@config_option
def sites_resources(
    name: str,
    adding: tuple[str, ...],
    removing: tuple[str, ...],
    allow_private_addresses: bool | None,
    config_file: Path | None,
) -> None:
    """Show, or change, where the resource proxy may fetch a site's page resources from."""

    async def change(store: SiteStore, audit: AuditLog) -> SiteRecord:
        site = await store.change_resources(name, adding, removing, allow_private_addresses)
        await audit.record(
            "site_resources_changed",
            "cli",
            site=name,
            added=", ".join(adding) or None,
            removed=", ".join(removing) or None,
            allow_private_addresses=site.allow_private_addresses,
        )
        return site

    changing = bool(adding or removing) or allow_private_addresses is not None
    site = _show_or_change_site(config_file, name, change if changing else None)
    click.echo(
        "\n".join(
            (
                f"site {site.name}: page resources through cobrowse from",
                f"  its origins: {', '.join(site.origins)}",
                f"  other hosts: {', '.join(site.resource_hosts) or 'none'}",
                _private_addresses_line(site),
            )
        )
    )
    if allow_private_addresses:
        click.echo(_UNSAFE_SWITCH_WARNING.format(name=site.name), err=True)


@sites.command("phones")
@click.argument("name")
@click.option(
    "--add",
    "adding",
    multiple=True,
    metavar="NUMBER",
    help='A support number the CallUs widget shows, like "+1 555 0100": digits, spaces, '
    "dashes and parentheses, with an optional + in front (repeatable).",
)
@click.option(
    "--label",
    default=None,
    help='What the numbers added are for, like "Support" (shown next to them).',
)
@click.option(
    "--remove",
    "removing",
    multiple=True,
    metavar="NUMBER",
    help="No longer show NUMBER (repeatable).",
)
@config_option
def sites_phones(
    name: str,
    adding: tuple[str, ...],
    label: str | None,
    removing: tuple[str, ...],
    config_file: Path | None,
) -> None:
    """Show, or change, the support phone numbers of a site's CallUs widget."""

    async def change(store: SiteStore, audit: AuditLog) -> SiteRecord:
        site = await store.change_phones(name, adding, removing, label)
        await audit.record(
            "site_phones_changed",
            "cli",
            site=name,
            added=", ".join(adding) or None,
            removed=", ".join(removing) or None,
        )
        return site

    changing = bool(adding or removing) or label is not None
    site = _show_or_change_site(config_file, name, change if changing else None)
    lines = [f"site {site.name}: support phone numbers"]
    lines += [
        f"  {phone.number}" + (f" ({phone.label})" if phone.label else "") for phone in site.phones
    ]
    if not site.phones:
        lines.append("  none")
    click.echo("\n".join(lines))


def _show_or_change_site(
    config_file: Path | None,
    name: str,
    change: Callable[[SiteStore, AuditLog], Awaitable[SiteRecord]] | None,
) -> SiteRecord:
    """The site as it is (``change`` None) or once changed; store errors become the
    command's message."""
    settings = _settings(config_file)

    async def run(db: Database) -> SiteRecord:
        store = SiteStore(db)
        if change is not None:
            return await change(store, AuditLog(db))
        found = await store.site(name)
        if found is None:
            raise UnknownSite(name)
        return found

    try:
        return _with_database(settings, run)
    except UnknownSite as exc:
        raise click.ClickException(f"{exc} (cobrowse sites add registers one)") from None
    except SiteError as exc:
        raise click.ClickException(str(exc)) from None


def _private_addresses_line(site: SiteRecord) -> str:
    if site.allow_private_addresses:
        return "  private addresses: ALLOWED (unsafe: only for a demo or tests on this machine)"
    return "  private addresses: refused"


@main.group()
def restrictions() -> None:
    """DOM restrictions: what is masked or disabled for the agent, per site and page."""


@restrictions.command("export")
@click.option(
    "--site",
    "site_names",
    multiple=True,
    help="Only this site (repeatable); every registered site when not given.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write; standard output when not given.",
)
@config_option
def restrictions_export(
    site_names: tuple[str, ...], output: Path | None, config_file: Path | None
) -> None:
    """Write sites' restrictions as a commented TOML file to review and import."""
    settings = _settings(config_file)

    async def export(db: Database) -> dict[str, SiteRestrictions]:
        store = RestrictionStore(db)
        if not site_names:
            return await store.all()
        return {name: await store.get(name) for name in dict.fromkeys(site_names)}

    try:
        chosen = _with_database(settings, export)
    except UnknownSite as exc:
        raise click.ClickException(f"{exc} (cobrowse sites add registers one)") from None
    text = restriction_file.render(chosen)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote the restrictions of {len(chosen)} site(s) to {output}", err=True)


@restrictions.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@config_option
def restrictions_import(file: Path, config_file: Path | None) -> None:
    """Replace the restrictions of every site named in FILE (others are untouched).

    The whole file is checked first; if anything in it is wrong nothing is saved.
    """
    settings = _settings(config_file)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(f"{file} is not a UTF-8 text file") from None

    async def load(db: Database) -> list[str]:
        registered = {site.name for site in await SiteStore(db).all()}
        wanted = restriction_file.parse(text, registered)
        store = RestrictionStore(db)
        current = await store.all()
        changed = {name: new for name, new in wanted.items() if current.get(name) != new}
        versions = await store.replace(changed)
        report: list[str] = []
        for name, new in wanted.items():
            if name not in versions:
                report.append(f"site {name}: unchanged")
                continue
            await AuditLog(db).record(
                "restrictions_changed", "cli", site=name, version=versions[name]
            )
            report.append(f"site {name}: saved as version {versions[name]}")
            report += [
                f"  {line}" for line in restriction_file.describe_changes(current[name], new)
            ]
        return report or [f"{file} names no site; nothing changed"]

    try:
        click.echo("\n".join(_with_database(settings, load)))
    except (RestrictionError, SiteError) as exc:
        # str(), not .problems: the message keeps a flood of mistakes to the first few.
        raise click.ClickException(
            f"{file} was not imported; nothing was changed:\n"
            + "\n".join(f"  {problem}" for problem in str(exc).splitlines())
        ) from None


@main.group("api-keys")
def api_keys() -> None:
    """Keys for the integration REST API under /api/v1."""


@api_keys.command("create")
@click.argument("name")
@config_option
def api_keys_create(name: str, config_file: Path | None) -> None:
    """Create a key named NAME and print it; it is shown this once only."""
    settings = _settings(config_file)

    async def create(db: Database) -> str:
        key = await ApiKeyStore(db).create(name)
        await AuditLog(db).record("api_key_created", "cli", api_key=name)
        return key

    try:
        key = _with_database(settings, create)
    except ApiKeyError as exc:
        raise click.ClickException(str(exc)) from None
    # The key alone on standard output, so `KEY=$(cobrowse api-keys create crm)` works.
    click.echo(key)
    click.echo(
        f"API key {name} created. Store it now: it is shown only once (cobrowse keeps only "
        "a digest of it). Send it as the header  Authorization: Bearer <key>",
        err=True,
    )


@api_keys.command("list")
@config_option
def api_keys_list(config_file: Path | None) -> None:
    """List API keys (names and use, never the keys)."""
    settings = _settings(config_file)

    async def list_keys(db: Database) -> list[ApiKeyInfo]:
        return await ApiKeyStore(db).list()

    keys = _with_database(settings, list_keys)
    if not keys:
        click.echo("no API keys (cobrowse api-keys create NAME makes one)")
    for key in keys:
        used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never"
        click.echo(
            f"{key.name}  created {key.created_at.isoformat(timespec='seconds')}  last used {used}"
        )


@api_keys.command("revoke")
@click.argument("name")
@config_option
def api_keys_revoke(name: str, config_file: Path | None) -> None:
    """Revoke the key named NAME; requests with it are refused from now on."""
    settings = _settings(config_file)

    async def revoke(db: Database) -> None:
        await ApiKeyStore(db).revoke(name)
        await AuditLog(db).record("api_key_revoked", "cli", api_key=name)

    try:
        _with_database(settings, revoke)
    except ApiKeyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"API key {name} revoked")


class IsoTime(click.ParamType[datetime, object]):
    """An ISO 8601 time; one without a UTC offset is taken to be UTC."""

    name = "ISO-TIME"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return utc(value)
        try:
            return utc(datetime.fromisoformat(str(value)))
        except ValueError:
            self.fail(
                f"{value!r} is not an ISO 8601 time (like 2026-12-01 or 2026-12-01T09:30:00Z)",
                param,
                ctx,
            )


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else ""


def _duration(duration: timedelta | None) -> str:
    if duration is None:
        return "live"
    minutes, seconds = divmod(round(duration.total_seconds()), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"


def _history_json(record: HistoryRecord) -> str:
    duration = record.duration
    return json.dumps(
        {
            "session_id": record.session_id,
            "site": record.site,
            "agent": record.agent,
            "started_at": record.started_at.isoformat(),
            "joined_at": record.joined_at.isoformat() if record.joined_at else None,
            "ended_at": record.ended_at.isoformat() if record.ended_at else None,
            "end_reason": record.end_reason,
            "duration_seconds": duration.total_seconds() if duration is not None else None,
            "write_mode_requests": record.write_mode_requests,
            "write_mode_declined": record.write_mode_declined,
            "mode_changes": record.mode_changes,
        }
    )


def _history_table(records: list[HistoryRecord]) -> str:
    header = ("ID", "SITE", "AGENT", "STARTED (UTC)", "DURATION", "END REASON", "WRITE REQ/DECL")
    rows = [header] + [
        (
            record.session_id,
            record.site,
            record.agent or "-",
            _when(record.started_at.replace(tzinfo=None)),
            _duration(record.duration),
            record.end_reason or "-",
            f"{record.write_mode_requests}/{record.write_mode_declined}",
        )
        for record in records
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


@main.command()
@click.option("--since", type=IsoTime(), default=None, help="Sessions started at or after.")
@click.option("--until", type=IsoTime(), default=None, help="Sessions started before.")
@click.option("--agent", default=None, help="Only sessions this agent joined.")
@click.option("--site", default=None, help="Only sessions of this site.")
@click.option(
    "--reason",
    type=click.Choice([reason.value for reason in EndReason]),
    default=None,
    help="Only sessions that ended for this reason.",
)
@click.option(
    "--limit",
    type=click.IntRange(1, MAX_SEARCH_LIMIT),
    default=100,
    show_default=True,
    help="At most this many sessions.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@config_option
def history(
    since: datetime | None,
    until: datetime | None,
    agent: str | None,
    site: str | None,
    reason: str | None,
    limit: int,
    as_json: bool,
    config_file: Path | None,
) -> None:
    """Past and live sessions, newest first (metadata only, never page content).

    Times are ISO 8601 (2026-12-01 or 2026-12-01T09:30:00+01:00); without an offset, UTC.
    """
    settings = _settings(config_file)

    async def search(db: Database) -> list[HistoryRecord]:
        return await SessionHistory(db).search(
            since=since, until=until, agent=agent, site=site, end_reason=reason, limit=limit
        )

    records = _with_database(settings, search)
    if as_json:
        for record in records:
            click.echo(_history_json(record))
    elif not records:
        click.echo("no sessions match", err=True)
    else:
        click.echo(_history_table(records))


if __name__ == "__main__":
    sys.exit(main())
