"""`cobrowse restrictions export` and `import`, in a real subprocess: the file an
administrator reviews, what an import changes, and every refusal."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from cobrowse.core.restriction_file import HEADER
from cobrowse.core.restrictions import SiteRestrictions
from cobrowse.store.db import Database
from cobrowse.store.restrictions import RestrictionStore
from tests.support import cobrowse, run_async

CHECKOUT_FILE = """\
[sites.shop]
mask_payment_cards = true
disable_submit = false

[[sites.shop.rules]]
pattern = "/checkout*"
mask = ["#email"]
disable = ["#delete-account"]
"""


def install(folder: Path, *sites: str) -> Path:
    """A cobrowse working directory (default SQLite store) with these sites registered."""
    folder.mkdir(parents=True, exist_ok=True)
    for number, name in enumerate(sites):
        added = cobrowse("sites", "add", name, "--origin", f"https://{name}{number}.example",
                         cwd=folder)  # fmt: skip
        assert added.returncode == 0, added.stderr
    return folder


def export(folder: Path, *args: str) -> str:
    exported = cobrowse("restrictions", "export", *args, cwd=folder)
    assert exported.returncode == 0, exported.stderr
    return exported.stdout


def stored(folder: Path) -> tuple[int, dict[str, SiteRestrictions]]:
    """The latest version and every site's restrictions, read straight from the store."""
    found: list[tuple[int, dict[str, SiteRestrictions]]] = []

    async def read() -> None:
        db = Database(f"sqlite+aiosqlite:///{folder / 'data' / 'cobrowse.db'}")
        try:
            store = RestrictionStore(db)
            found.append((await store.latest_version(), await store.all()))
        finally:
            await db.close()

    run_async(read)
    return found[0]


def import_file(folder: Path, content: str) -> tuple[int, str, str]:
    (folder / "restrictions.toml").write_text(content, encoding="utf-8")
    result = cobrowse("restrictions", "import", "restrictions.toml", cwd=folder)
    return result.returncode, result.stdout, result.stderr


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One install whose shop has the checkout rules; refusal tests must leave it so."""
    folder = install(tmp_path_factory.mktemp("configured"), "shop", "blog")
    code, _, stderr = import_file(folder, CHECKOUT_FILE)
    assert code == 0, stderr
    assert stored(folder)[0] == 1
    return folder


def test_export_of_a_new_install_is_commented_and_has_the_defaults(tmp_path: Path) -> None:
    folder = install(tmp_path, "shop", "blog")
    text = export(folder)
    assert text.startswith(HEADER)
    assert tomllib.loads(text) == {
        "sites": {
            "blog": {"mask_payment_cards": True, "disable_submit": True, "rules": []},
            "shop": {"mask_payment_cards": True, "disable_submit": True, "rules": []},
        }
    }


def test_import_replaces_named_sites_reports_changes_and_exports_back(tmp_path: Path) -> None:
    folder = install(tmp_path, "shop", "blog")
    code, stdout, stderr = import_file(folder, CHECKOUT_FILE)
    assert code == 0, stderr
    assert stdout.splitlines() == [
        "site shop: saved as version 1",
        "  disable_submit: true -> false",
        '  rule "/checkout*" added: 1 mask, 1 disable selectors',
    ]

    shop = tomllib.loads(export(folder, "--site", "shop"))
    assert shop == {
        "sites": {
            "shop": {
                "mask_payment_cards": True,
                "disable_submit": False,
                "rules": [
                    {"pattern": "/checkout*", "mask": ["#email"], "disable": ["#delete-account"]}
                ],
            }
        }
    }
    blog = tomllib.loads(export(folder, "--site", "blog"))["sites"]["blog"]
    assert blog == {"mask_payment_cards": True, "disable_submit": True, "rules": []}

    code, stdout, _ = import_file(folder, export(folder))
    assert code == 0
    assert stdout.splitlines() == ["site blog: unchanged", "site shop: unchanged"]


def test_an_export_imported_elsewhere_exports_the_same(tmp_path: Path) -> None:
    source = install(tmp_path / "source", "shop", "blog")
    assert import_file(source, CHECKOUT_FILE)[0] == 0
    written = cobrowse("restrictions", "export", "--output", "all.toml", cwd=source)
    assert written.returncode == 0, written.stderr
    assert "wrote the restrictions of 2 site(s) to all.toml" in written.stderr
    exported = (source / "all.toml").read_text(encoding="utf-8")

    target = install(tmp_path / "target", "shop", "blog")
    code, stdout, stderr = import_file(target, exported)
    assert code == 0, stderr
    assert "site shop: saved as version 1" in stdout
    assert "site blog: unchanged" in stdout
    assert export(target) == exported


def test_an_unknown_site_cannot_be_exported(configured: Path) -> None:
    result = cobrowse("restrictions", "export", "--site", "nosuch", cwd=configured)
    assert result.returncode != 0
    assert "there is no site named 'nosuch'" in result.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('format = 2\n[sites.shop]\n', ['unknown key "format" at the top of the file']),
        (
            "[sites.shop]\nmask_cards = false\n",
            ['site shop: unknown key "mask_cards" (known keys: disable_submit, '
             "mask_payment_cards, rules)"],
        ),
        (
            '[sites.shop]\n[[sites.shop.rules]]\npattern = "/a"\n[[sites.shop.rules]]\n'
            'pattern = "/b"\nhide = ["#x"]\n',
            ['site shop, rule 2: unknown key "hide"'],
        ),
        (
            "[sites.nosuch]\ndisable_submit = false\n",
            ["site nosuch: not a registered site (register it first: cobrowse sites add "
             "nosuch --origin URL)"],
        ),
        (
            '[sites.shop]\n[[sites.shop.rules]]\npattern = "/a"\n[[sites.shop.rules]]\n'
            'pattern = "/checkout*"\nmask = ["#ok", "#a["]\n',
            ['site shop, rule 2: invalid mask selector "#a[": Malformed attribute selector'],
        ),
        (
            '[sites.shop]\n[[sites.shop.rules]]\npattern = "checkout"\ndisable = ["#x"]\n',
            ['site shop, rule 1: invalid pattern "checkout": must be "*" (every page) or a '
             'path starting with "/"'],
        ),
        ("[sites.shop\n", ["not valid TOML"]),
        (
            # A valid site next to an invalid one: neither is saved.
            '[sites.blog]\ndisable_submit = false\n\n[sites.shop]\n[[sites.shop.rules]]\n'
            'pattern = "/x"\nmask = ["p::before"]\n',
            ['site shop, rule 1: invalid mask selector "p::before": pseudo-elements'],
        ),
        (
            '[sites.shop]\nmask_payment_cards = "no"\n[[sites.shop.rules]]\npattern = "/a b"\n'
            "[sites.ghost]\n",
            [
                "site shop: mask_payment_cards must be true or false",
                'site shop, rule 1: invalid pattern "/a b": whitespace',
                "site ghost: not a registered site",
            ],
        ),
    ],
)  # fmt: skip
def test_a_file_with_any_problem_is_refused_whole_and_nothing_changes(
    configured: Path, content: str, expected: list[str]
) -> None:
    before = stored(configured)
    code, stdout, stderr = import_file(configured, content)
    assert code != 0
    assert stdout == ""
    assert "restrictions.toml was not imported; nothing was changed:" in stderr
    for message in expected:
        assert message in stderr
    assert stored(configured) == before


def test_a_file_naming_no_site_changes_nothing(configured: Path) -> None:
    before = stored(configured)
    code, stdout, _ = import_file(configured, "# nothing yet\n")
    assert code == 0
    assert "names no site; nothing changed" in stdout
    assert stored(configured) == before


def test_a_file_that_is_not_text_is_refused(configured: Path) -> None:
    (configured / "binary.toml").write_bytes(b"\xff\xfe\x00[sites]")
    result = cobrowse("restrictions", "import", "binary.toml", cwd=configured)
    assert result.returncode != 0
    assert "binary.toml is not a UTF-8 text file" in result.stderr
    assert "Traceback" not in result.stderr
