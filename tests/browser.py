"""How the browser tests and the benchmarks launch Debian's Chromium."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Browser, Playwright

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# Without the background-networking flags Chromium keeps dialling hosts this
# machine cannot reach; the sandbox needs privileges CI containers lack.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class ChromiumMissing(RuntimeError):
    pass


def launch_chromium(playwright: Playwright) -> Browser:
    if not CHROMIUM.exists():
        raise ChromiumMissing(
            f"Chromium is not at {CHROMIUM}: install it with `apt-get install chromium` "
            "(make test does this) or point CHROMIUM_PATH at a Chromium binary."
        )
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
