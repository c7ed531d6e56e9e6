"""DOM restriction rules (PRODUCT.md R5): page patterns, validation, what applies where."""

from __future__ import annotations

import pytest

from cobrowse.core.restrictions import (
    MAX_PROBLEMS_REPORTED,
    MAX_RULES_PER_SITE,
    MAX_SELECTOR_LENGTH,
    MAX_SELECTORS_PER_LIST,
    RestrictionError,
    Rule,
    SiteRestrictions,
    effective,
    validate,
)


def problems_of(restrictions: SiteRestrictions, site: str = "shop") -> list[str]:
    with pytest.raises(RestrictionError) as refused:
        validate(restrictions, site)
    return list(refused.value.problems)


# Patterns -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*", "/", True),
        ("*", "/any/page/at/all", True),
        ("/checkout", "/checkout", True),
        ("/checkout", "/checkout/", False),
        ("/checkout", "/shop/checkout", False),
        ("/checkout*", "/checkout", True),
        ("/checkout*", "/checkout/payment/card", True),
        ("/checkout*", "/checkouts", True),
        ("/checkout/*", "/checkout", False),
        ("/*/settings", "/account/settings", True),
        ("/*/settings", "/a/b/settings", True),
        ("/*/settings", "/account/settings/x", False),
        ("/a*b*c", "/a-b-c", True),
        ("/a*b*c", "/a-c", False),
        ("/Account", "/account", False),
        ("/cart.html", "/cartXhtml", False),
        ("/items/[1]", "/items/[1]", True),
        ("/items/(x)+", "/items/(x)+", True),
        ("/caf%C3%A9", "/caf%C3%A9", True),
    ],
)
def test_a_pattern_matches_the_whole_path_and_only_star_is_special(
    pattern: str, path: str, matches: bool
) -> None:
    assert Rule(pattern).matches(path) is matches


@pytest.mark.parametrize("pattern", ["*", "/", "/checkout*", "/*/settings", "/a%20b", "/~user/[x]"])
def test_valid_patterns_are_accepted(pattern: str) -> None:
    validate(SiteRestrictions(rules=(Rule(pattern, ("#a",)),)), "shop")


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("checkout", 'must be "*" (every page) or a path starting with "/"'),
        ("", 'must be "*" (every page) or a path starting with "/"'),
        ("**", 'must be "*" (every page) or a path starting with "/"'),
        ("https://shop.example/checkout", "starting with"),
        ("/search?q=*", '"?" (query) and "#" (fragment) never appear in it'),
        ("/page#top", '"?" (query) and "#" (fragment) never appear in it'),
        ("/my page", "whitespace"),
        ("/tab\there", "whitespace"),
        ("/café", "write them percent-encoded"),
        ("/" + "a" * 300, "longer than 300 characters"),
    ],
)
def test_invalid_patterns_are_refused_naming_the_site_rule_and_pattern(
    pattern: str, reason: str
) -> None:
    rules = (Rule("*", ("#fine",)), Rule(pattern, ("#a",)))
    [problem] = problems_of(SiteRestrictions(rules=rules))
    assert problem.startswith("site shop, rule 2: invalid pattern ")
    assert reason in problem
    if len(pattern) < 80:
        assert f'"{pattern}"' in problem.replace("\\t", "\t")


def test_a_pattern_of_300_characters_is_allowed() -> None:
    validate(SiteRestrictions(rules=(Rule("/" + "a" * 299),)), "shop")


# Selectors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "selector",
    [
        "#email",
        "input[autocomplete^='cc-']",
        'form.checkout input[name="iban"]',
        ".account > .balance, .account .history",
        "li:nth-child(2n of .secret)",
        ":is(#a, #b) span",
        "div:has(> input[type=password])",
        '[title=":contains("]',
    ],
)
def test_css_selectors_are_accepted(selector: str) -> None:
    validate(SiteRestrictions(rules=(Rule("*", (selector,), (selector,)),)), "shop")


def test_an_invalid_selector_is_named_with_its_list_rule_site_and_reason() -> None:
    rules = (Rule("/checkout*", ("#ok",), ("#fine",)), Rule("/account*", ("#a[",)))
    assert problems_of(SiteRestrictions(rules=rules)) == [
        'site shop, rule 2: invalid mask selector "#a[": Malformed attribute selector at position 2'
    ]
    disabled = SiteRestrictions(rules=(Rule("*", (), ("button >",)),))
    [problem] = problems_of(disabled, site="blog")
    assert problem.startswith('site blog, rule 1: invalid disable selector "button >": ')


@pytest.mark.parametrize(
    ("selector", "reason"),
    [
        ("", "cannot be empty"),
        ("   ", "cannot be empty"),
        ("p::before", "pseudo-elements"),
        ("p:contains(secret)", "not standard CSS"),
        ("p:-soup-contains(secret)", "not standard CSS"),
        ("#" + "a" * MAX_SELECTOR_LENGTH, f"longer than {MAX_SELECTOR_LENGTH} characters"),
    ],
)
def test_selectors_a_browser_could_not_use_are_refused(selector: str, reason: str) -> None:
    [problem] = problems_of(SiteRestrictions(rules=(Rule("*", (selector,)),)))
    assert problem.startswith("site shop, rule 1: invalid mask selector ")
    assert reason in problem


def test_every_problem_is_reported_at_once() -> None:
    rules = (Rule("nope", ("#a[", "#ok"), ("b >",)), Rule("/x", ("::after",)))
    problems = problems_of(SiteRestrictions(rules=rules))
    assert [problem.split(":")[0] for problem in problems] == [
        "site shop, rule 1",
        "site shop, rule 1",
        "site shop, rule 1",
        "site shop, rule 2",
    ]


def test_a_flood_of_problems_is_cut_short_in_the_message() -> None:
    rules = tuple(Rule(f"bad{number}") for number in range(MAX_PROBLEMS_REPORTED + 5))
    with pytest.raises(RestrictionError) as refused:
        validate(SiteRestrictions(rules=rules), "shop")
    assert len(refused.value.problems) == MAX_PROBLEMS_REPORTED + 5
    message_lines = str(refused.value).splitlines()
    assert len(message_lines) == MAX_PROBLEMS_REPORTED + 1
    assert message_lines[-1] == "... and 5 more problems"


def test_sizes_are_bounded() -> None:
    too_many_rules = tuple(Rule("*") for _ in range(MAX_RULES_PER_SITE + 1))
    assert problems_of(SiteRestrictions(rules=too_many_rules)) == [
        f"site shop: {MAX_RULES_PER_SITE + 1} rules; at most {MAX_RULES_PER_SITE} are allowed"
    ]
    validate(SiteRestrictions(rules=too_many_rules[:-1]), "shop")

    selectors = tuple(f"#field-{number}" for number in range(MAX_SELECTORS_PER_LIST + 1))
    assert problems_of(SiteRestrictions(rules=(Rule("*", (), selectors),))) == [
        f"site shop, rule 1: {MAX_SELECTORS_PER_LIST + 1} disable selectors; "
        f"at most {MAX_SELECTORS_PER_LIST} are allowed"
    ]


# What applies where ------------------------------------------------------------------


def test_defaults_mask_cards_and_disable_submit_with_no_rules() -> None:
    defaults = SiteRestrictions()
    assert defaults.mask_payment_cards is True
    assert defaults.disable_submit is True
    assert effective(defaults, "/checkout") == ((), ())


def test_effective_merges_every_matching_rule_in_order_without_repeats() -> None:
    restrictions = SiteRestrictions(
        rules=(
            Rule("*", mask=("#email",)),
            Rule("/checkout*", mask=("#iban", "#email"), disable=("#pay",)),
            Rule("/account*", mask=("#balance",), disable=("#delete-account",)),
            Rule("/checkout/confirm", mask=("#address",), disable=("#pay", "#edit")),
        )
    )
    confirm = effective(restrictions, "/checkout/confirm")
    assert confirm.mask == ("#email", "#iban", "#address")
    assert confirm.disable == ("#pay", "#edit")
    assert effective(restrictions, "/account/settings") == (
        ("#email", "#balance"),
        ("#delete-account",),
    )
    assert effective(restrictions, "/") == (("#email",), ())


# The wire document ------------------------------------------------------------------


def test_the_wire_document_is_what_the_customer_script_receives() -> None:
    restrictions = SiteRestrictions(
        mask_payment_cards=False,
        rules=(Rule("/checkout*", ("#email",), ("#delete-account",)),),
    )
    assert restrictions.to_wire() == {
        "mask_payment_cards": False,
        "disable_submit": True,
        "rules": [{"pattern": "/checkout*", "mask": ["#email"], "disable": ["#delete-account"]}],
    }
    assert SiteRestrictions.from_wire(restrictions.to_wire(), "shop") == restrictions


def test_reading_a_document_fills_in_defaults() -> None:
    read = SiteRestrictions.from_wire({"rules": [{"pattern": "/a"}]}, "shop")
    assert read == SiteRestrictions(rules=(Rule("/a"),))


def test_reading_a_document_refuses_unknown_keys_wrong_types_and_invalid_values() -> None:
    document: dict[str, object] = {
        "mask_cards": False,
        "disable_submit": "no",
        "rules": [
            {"pattern": "/a", "mask": "#email", "hide": ["#x"]},
            {"mask": ["#a["]},
            "not a table",
            {"pattern": "checkout"},
        ],
    }
    with pytest.raises(RestrictionError) as refused:
        SiteRestrictions.from_wire(document, "shop")
    assert list(refused.value.problems) == [
        'site shop: unknown key "mask_cards" (known keys: disable_submit, mask_payment_cards, '
        "rules)",
        "site shop: disable_submit must be true or false",
        'site shop, rule 1: unknown key "hide" (known keys: disable, mask, pattern)',
        "site shop, rule 1: mask must be a list of CSS selectors (strings)",
        "site shop, rule 2: pattern is required and must be a string",
        "site shop, rule 3: must be a table",
        'site shop, rule 2: invalid mask selector "#a[": Malformed attribute selector at '
        "position 2",
        'site shop, rule 4: invalid pattern "checkout": must be "*" (every page) or a path '
        'starting with "/"',
    ]


def test_a_document_validated_when_saved_is_only_read_back() -> None:
    saved = {"rules": [{"pattern": "/a", "mask": ["p:contains(x)"]}]}
    with pytest.raises(RestrictionError, match="not standard CSS"):
        SiteRestrictions.from_wire(saved, "shop")
    read = SiteRestrictions.from_wire(saved, "shop", already_validated=True)
    assert read.rules == (Rule("/a", ("p:contains(x)",)),)
    with pytest.raises(RestrictionError, match="unknown key"):
        SiteRestrictions.from_wire({"colour": 1}, "shop", already_validated=True)
