"""Build the TypeScript bundles into the package when a wheel is built.

The bundles are build output and never committed, so `pip install .` from a clean
checkout must make them: this hook runs `npm ci` and the esbuild script in client/.
Editable installs skip it; the Makefile builds the bundles for development.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUNDLES = ("cobrowse.js", "agent.js", "admin.js")


class ClientBundleHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        root = Path(self.root)
        dist = root / "src" / "cobrowse" / "web" / "static" / "dist"
        client = root / "client"
        if all((dist / name).exists() for name in BUNDLES) and not client.exists():
            return  # building from an sdist that already carries the bundles
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("building cobrowse needs Node.js and npm to bundle client/")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=client, check=True)
        subprocess.run([npm, "run", "build"], cwd=client, check=True)
