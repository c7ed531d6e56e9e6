"""`cobrowse sites add --resource-host/--allow-private-addresses` and `cobrowse sites
resources`, as an administrator runs them, in a real subprocess."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from cobrowse.store.db import Database
from cobrowse.store.models import AuditEvent
from tests.support import cobrowse


def test_sites_add_still_works_as_before_and_allows_only_the_origins(tmp_path: Path) -> None:
    added = cobrowse("sites", "add", "shop", "--origin", "https://shop.example.com", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert added.stdout == "site shop: https://shop.example.com\n"
    shown = cobrowse("sites", "resources", "shop", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == (
        "site shop: page resources through cobrowse from\n"
        "  its origins: https://shop.example.com\n"
        "  other hosts: none\n"
        "  private addresses: refused\n"
    )


def test_sites_add_takes_resource_hosts_and_the_unsafe_switch(tmp_path: Path) -> None:
    added = cobrowse(
        "sites", "add", "demo", "--origin", "http://localhost:8001",
        "--resource-host", "CDN.example.com", "--resource-host", "*.img.example.com",
        "--allow-private-addresses", cwd=tmp_path,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stdout == (
        "site demo: http://localhost:8001\n"
        "  resources also from: *.img.example.com, cdn.example.com\n"
        "  private addresses: ALLOWED (unsafe: only for a demo or tests on this machine)\n"
    )
    assert "WARNING" in added.stderr
    assert "unsafe anywhere but a demo or tests" in added.stderr


def test_sites_resources_adds_removes_and_switches(tmp_path: Path) -> None:
    assert cobrowse("sites", "add", "shop", "--origin", "https://shop.example.com",
                    "--resource-host", "cdn.example.com", cwd=tmp_path).returncode == 0  # fmt: skip
    changed = cobrowse(
        "sites", "resources", "shop", "--add", "https://fonts.example.net:8443",
        "--remove", "cdn.example.com", "--allow-private-addresses", cwd=tmp_path,
    )  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout == (
        "site shop: page resources through cobrowse from\n"
        "  its origins: https://shop.example.com\n"
        "  other hosts: https://fonts.example.net:8443\n"
        "  private addresses: ALLOWED (unsafe: only for a demo or tests on this machine)\n"
    )
    assert "WARNING" in changed.stderr
    back = cobrowse("sites", "resources", "shop", "--refuse-private-addresses", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert back.stdout.endswith("  private addresses: refused\n")
    assert "WARNING" not in back.stderr

    async def audited() -> list[dict[str, object]]:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'cobrowse.db'}")
        try:
            async with db.sessions() as tx:
                events = await tx.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.kind == "site_resources_changed")
                    .order_by(AuditEvent.id)
                )
                return [event.detail for event in events]
        finally:
            await db.close()

    assert asyncio.run(audited()) == [
        {"site": "shop", "added": "cdn.example.com", "allow_private_addresses": False},
        {
            "site": "shop",
            "added": "https://fonts.example.net:8443",
            "removed": "cdn.example.com",
            "allow_private_addresses": True,
        },
        {"site": "shop", "added": None, "removed": None, "allow_private_addresses": False},
    ]


def test_resource_mistakes_are_refused_with_a_message(tmp_path: Path) -> None:
    assert cobrowse("sites", "add", "shop", "--origin", "https://shop.example.com",
                    cwd=tmp_path).returncode == 0  # fmt: skip
    cases = [
        (("sites", "resources", "nope"), "there is no site named 'nope' (cobrowse sites add"),
        (("sites", "resources", "shop", "--add", "*.com"), "a wildcard covers the subdomains"),
        (("sites", "resources", "shop", "--remove", "x.example.com"), "has no resource host"),
        (
            ("sites", "add", "shop", "--origin", "https://shop.example.com", "--resource-host",
             "ftp://cdn.example.com"),
            "only http:// or https:// may come first",
        ),
    ]  # fmt: skip
    for args, message in cases:
        result = cobrowse(*args, cwd=tmp_path)
        assert result.returncode != 0, args
        assert message in result.stderr, (args, result.stderr)
