"""The restrictions file: TOML to export, review and import (PRODUCT.md R5)."""

from __future__ import annotations

import tomllib

import pytest

from cobrowse.core.restriction_file import HEADER, describe_changes, parse, render
from cobrowse.core.restrictions import RestrictionError, Rule, SiteRestrictions

SHOP = SiteRestrictions(
    disable_submit=False,
    rules=(
        Rule("/checkout*", ("#email", 'input[name="iban"]'), ("#delete-account",)),
        Rule("*", ("#balance",)),
    ),
)


def problems_of(text: str, registered: set[str] | None = None) -> list[str]:
    with pytest.raises(RestrictionError) as refused:
        parse(text, registered if registered is not None else {"shop", "blog"})
    return list(refused.value.problems)


def test_a_file_starts_with_a_comment_explaining_it_and_reads_back_the_same() -> None:
    text = render({"shop": SHOP, "blog": SiteRestrictions()})
    assert text.startswith(HEADER)
    assert "password fields" in HEADER
    assert "[sites.shop]\nmask_payment_cards = true\ndisable_submit = false\n" in text
    assert '[[sites.shop.rules]]\npattern = "/checkout*"\n' in text
    assert parse(text, {"shop", "blog"}) == {"shop": SHOP, "blog": SiteRestrictions()}


def test_site_names_that_are_not_bare_toml_keys_are_quoted() -> None:
    text = render({"shop.example": SHOP})
    assert '[sites."shop.example"]' in text
    assert parse(text, {"shop.example"}) == {"shop.example": SHOP}


def test_a_hand_written_file_with_inline_lists_and_defaults_is_read() -> None:
    text = """
        [sites.shop]
        disable_submit = false

        [[sites.shop.rules]]
        pattern = "/checkout*"
        mask = ["#email"]
    """
    assert parse(text, {"shop"}) == {
        "shop": SiteRestrictions(disable_submit=False, rules=(Rule("/checkout*", ("#email",)),))
    }


def test_a_file_without_sites_reads_as_nothing() -> None:
    assert parse(render({}), {"shop"}) == {}
    assert tomllib.loads(render({})) == {}


def test_every_problem_in_a_file_is_reported_with_site_and_rule() -> None:
    text = """
        version = 2

        [sites.shop]
        mask_payment_card = false

        [[sites.shop.rules]]
        pattern = "/checkout*"
        mask = ["#a["]

        [[sites.shop.rules]]
        pattern = "account"

        [sites.nosuch]
        disable_submit = true

        [sites.blog]
        rules = "none"
    """
    assert problems_of(text) == [
        'unknown key "version" at the top of the file (the only one is sites)',
        'site shop: unknown key "mask_payment_card" (known keys: disable_submit, '
        "mask_payment_cards, rules)",
        'site shop, rule 1: invalid mask selector "#a[": Malformed attribute selector at '
        "position 2",
        'site shop, rule 2: invalid pattern "account": must be "*" (every page) or a path '
        'starting with "/"',
        "site nosuch: not a registered site (register it first: cobrowse sites add nosuch "
        "--origin URL)",
        "site blog: rules must be a list of tables",
    ]


def test_broken_toml_is_refused_with_its_position() -> None:
    [problem] = problems_of("[sites.shop]\nmask_payment_cards = yes\n")
    assert problem.startswith("not valid TOML: ")
    assert "line 2" in problem


def test_sites_must_be_tables() -> None:
    assert problems_of("sites = 3") == ["sites must be a table: [sites.NAME]"]
    assert problems_of("[sites]\nshop = 3") == ["site shop: must be a table: [sites.shop]"]


# What an import reports --------------------------------------------------------------


def test_nothing_changed_reports_nothing() -> None:
    assert describe_changes(SHOP, SHOP) == []


def test_changes_are_described_one_per_line() -> None:
    new = SiteRestrictions(
        mask_payment_cards=False,
        disable_submit=True,
        rules=(
            Rule("/checkout*", ("#email", "#phone"), ()),
            Rule("/account*", ("#balance",), ("#delete",)),
        ),
    )
    assert describe_changes(SHOP, new) == [
        "mask_payment_cards: true -> false",
        "disable_submit: false -> true",
        'rule "/account*" added: 1 mask, 1 disable selectors',
        'rule "*" removed',
        'rule "/checkout*": mask +"#phone"; mask -"input[name=\\"iban\\"]"; '
        'disable -"#delete-account"',
    ]


def test_reordering_is_reported_as_such() -> None:
    reordered = SiteRestrictions(disable_submit=False, rules=tuple(reversed(SHOP.rules)))
    assert describe_changes(SHOP, reordered) == [
        "rules rearranged (the same selectors for each pattern)"
    ]
    first = SHOP.rules[0]
    swapped = Rule(first.pattern, tuple(reversed(first.mask)), first.disable)
    selectors_reordered = SiteRestrictions(True, False, (swapped, SHOP.rules[1]))
    assert describe_changes(SHOP, selectors_reordered) == ['rule "/checkout*": selectors reordered']
