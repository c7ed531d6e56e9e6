"""DOM restrictions of a site (PRODUCT.md R1-R5): which elements are masked or
disabled for the agent, on which pages.

A site has two switches for the built-in defaults and a list of rules. A rule's
pattern is a glob matched against the page's path (``location.pathname``, the
whole of it); ``*`` is the only wildcard and matches any run of characters,
slashes included. The selectors of every rule that matches a page apply to it.

Validation answers with every problem at once, each naming the value and where it
is (``site shop, rule 2: ...``; rules are numbered from 1 as they are listed), so
an administrator can fix a whole file in one go.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypedDict

import soupsieve

EVERY_PAGE = "*"
MAX_PATTERN_LENGTH = 300
MAX_SELECTOR_LENGTH = 500
MAX_SELECTORS_PER_LIST = 200
MAX_RULES_PER_SITE = 200
MAX_PROBLEMS_REPORTED = 20
"""A file with thousands of mistakes gets the first ones and a count, not a flood."""

# Browsers report pathname percent-encoded and never with whitespace, '?' or '#', so
# a pattern holding any of those, or any non-ASCII character, could never match: a
# mask rule that silently matches nothing would leak the data it was meant to hide.
_PATTERN_CHARACTERS = re.compile(r"[!-~]*")
_PATTERN_FORBIDDEN = re.compile(r"[?#]")
# soupsieve accepts these extensions; browsers do not, and a selector the browser
# refuses would make the customer script's query fail.
_QUOTED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'", re.DOTALL)
_SOUPSIEVE_ONLY = re.compile(r"(?<!\\):(?:-soup-[\w-]+|contains)\(", re.IGNORECASE)


class RestrictionError(ValueError):
    """Restrictions that cannot be saved; ``problems`` holds one sentence per mistake."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        shown = list(self.problems[:MAX_PROBLEMS_REPORTED])
        if len(self.problems) > MAX_PROBLEMS_REPORTED:
            shown.append(f"... and {len(self.problems) - MAX_PROBLEMS_REPORTED} more problems")
        super().__init__("\n".join(shown))


@dataclass(frozen=True)
class Rule:
    """Elements to mask and to disable on the pages whose path matches ``pattern``."""

    pattern: str
    mask: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()

    def matches(self, path: str) -> bool:
        return _pattern_regex(self.pattern).fullmatch(path) is not None


@dataclass(frozen=True)
class SiteRestrictions:
    """Everything the customer script of one site needs to know to restrict pages.

    Password fields are always masked; that is not a setting (R3).
    """

    mask_payment_cards: bool = True
    disable_submit: bool = True
    rules: tuple[Rule, ...] = ()

    def to_wire(self) -> WireRestrictions:
        """The JSON document the customer script receives and the store keeps."""
        return {
            "mask_payment_cards": self.mask_payment_cards,
            "disable_submit": self.disable_submit,
            "rules": [
                {"pattern": rule.pattern, "mask": list(rule.mask), "disable": list(rule.disable)}
                for rule in self.rules
            ],
        }

    @classmethod
    def from_wire(
        cls, document: Mapping[str, object], site: str, *, already_validated: bool = False
    ) -> SiteRestrictions:
        """Read and validate a document of the ``to_wire`` shape (JSON or TOML).

        RestrictionError names every problem: unknown keys, wrong types, and what
        ``validate`` refuses in the parts that could be read. A document validated
        when it was saved is only read (``already_validated``): checking it again on
        every read would let a stricter check in a later version lock a site out of
        co-browsing instead of refusing the next save.
        """
        problems: list[str] = []
        where = f"site {site}"
        _refuse_unknown_keys(document, _SITE_KEYS, where, problems)
        defaults = cls()
        mask_payment_cards = _boolean(
            document, "mask_payment_cards", defaults.mask_payment_cards, where, problems
        )
        disable_submit = _boolean(
            document, "disable_submit", defaults.disable_submit, where, problems
        )
        rules: list[Rule] = []
        listed = document.get("rules", [])
        if not isinstance(listed, list):
            problems.append(f"{where}: rules must be a list of tables")
            listed = []
        for number, entry in enumerate(listed, start=1):
            if not isinstance(entry, Mapping):
                problems.append(f"{where}, rule {number}: must be a table")
                rules.append(Rule(EVERY_PAGE))  # keeps later rules' numbers right
                continue
            rule_where = f"{where}, rule {number}"
            _refuse_unknown_keys(entry, _RULE_KEYS, rule_where, problems)
            pattern = entry.get("pattern")
            if not isinstance(pattern, str):
                problems.append(f"{rule_where}: pattern is required and must be a string")
                pattern = EVERY_PAGE  # stands in so the rule's selectors are still checked
            rules.append(
                Rule(
                    pattern,
                    _selectors(entry, "mask", rule_where, problems),
                    _selectors(entry, "disable", rule_where, problems),
                )
            )
        restrictions = cls(mask_payment_cards, disable_submit, tuple(rules))
        if not already_validated:
            try:
                validate(restrictions, site)
            except RestrictionError as exc:
                problems.extend(exc.problems)
        if problems:
            raise RestrictionError(problems)
        return restrictions


class WireRule(TypedDict):
    pattern: str
    mask: list[str]
    disable: list[str]


class WireRestrictions(TypedDict):
    mask_payment_cards: bool
    disable_submit: bool
    rules: list[WireRule]


_SITE_KEYS = WireRestrictions.__required_keys__
_RULE_KEYS = WireRule.__required_keys__


class EffectiveSelectors(NamedTuple):
    """The selectors in force on one page, each once, in the order the rules list them."""

    mask: tuple[str, ...]
    disable: tuple[str, ...]


def effective(restrictions: SiteRestrictions, path: str) -> EffectiveSelectors:
    matching = [rule for rule in restrictions.rules if rule.matches(path)]
    return EffectiveSelectors(
        mask=_unique(selector for rule in matching for selector in rule.mask),
        disable=_unique(selector for rule in matching for selector in rule.disable),
    )


def validate(restrictions: SiteRestrictions, site: str) -> None:
    """Raise RestrictionError naming every invalid pattern or selector and its rule."""
    problems: list[str] = []
    if len(restrictions.rules) > MAX_RULES_PER_SITE:
        problems.append(
            f"site {site}: {len(restrictions.rules)} rules; at most {MAX_RULES_PER_SITE} "
            "are allowed"
        )
    for number, rule in enumerate(restrictions.rules, start=1):
        where = f"site {site}, rule {number}"
        pattern_problem = pattern_problem_of(rule.pattern)
        if pattern_problem is not None:
            problems.append(f"{where}: invalid pattern {_quoted(rule.pattern)}: {pattern_problem}")
        for kind, selectors in (("mask", rule.mask), ("disable", rule.disable)):
            if len(selectors) > MAX_SELECTORS_PER_LIST:
                problems.append(
                    f"{where}: {len(selectors)} {kind} selectors; at most "
                    f"{MAX_SELECTORS_PER_LIST} are allowed"
                )
            for selector in selectors:
                selector_problem = selector_problem_of(selector)
                if selector_problem is not None:
                    problems.append(
                        f"{where}: invalid {kind} selector {_quoted(selector)}: {selector_problem}"
                    )
    if problems:
        raise RestrictionError(problems)


def pattern_problem_of(pattern: str) -> str | None:
    """Why ``pattern`` is not a valid page pattern, or None when it is."""
    if pattern == EVERY_PAGE:
        return None
    if not pattern.startswith("/"):
        return 'must be "*" (every page) or a path starting with "/"'
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"longer than {MAX_PATTERN_LENGTH} characters"
    if _PATTERN_FORBIDDEN.search(pattern):
        return 'patterns match the path only; "?" (query) and "#" (fragment) never appear in it'
    if not _PATTERN_CHARACTERS.fullmatch(pattern):
        return (
            "whitespace, control and non-ASCII characters never appear in a path as browsers "
            "report it; write them percent-encoded (é is %C3%A9, a space %20)"
        )
    return None


def selector_problem_of(selector: str) -> str | None:
    """Why ``selector`` is not a CSS selector the customer script can use, or None."""
    if not selector.strip():
        return "a selector cannot be empty"
    if len(selector) > MAX_SELECTOR_LENGTH:
        return f"longer than {MAX_SELECTOR_LENGTH} characters"
    if _SOUPSIEVE_ONLY.search(_QUOTED.sub('""', selector)):
        return "not standard CSS (browsers do not support :contains() or :-soup-*())"
    return _soupsieve_problem(selector)


@functools.lru_cache(maxsize=4096)
def _soupsieve_problem(selector: str) -> str | None:
    try:
        soupsieve.compile(selector)
    except soupsieve.SelectorSyntaxError as exc:
        # The rest of soupsieve's message is a drawing of the position over three lines.
        return str(exc).splitlines()[0]
    except NotImplementedError:
        return "pseudo-elements (::before and the like) are not elements and cannot be restricted"
    return None


@functools.lru_cache(maxsize=1024)
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def _unique(selectors: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(selectors))


def _quoted(value: str) -> str:
    """A value as it would be written in JSON or TOML, cut short if it is long."""
    shown = value if len(value) <= 80 else value[:77] + "..."
    return json.dumps(shown, ensure_ascii=False)


def _refuse_unknown_keys(
    table: Mapping[str, object], known: frozenset[str], where: str, problems: list[str]
) -> None:
    for key in table:
        if key not in known:
            problems.append(
                f"{where}: unknown key {_quoted(str(key))} (known keys: {', '.join(sorted(known))})"
            )


def _boolean(
    table: Mapping[str, object], key: str, default: bool, where: str, problems: list[str]
) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        problems.append(f"{where}: {key} must be true or false")
        return default
    return value


def _selectors(
    table: Mapping[str, object], key: str, where: str, problems: list[str]
) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.append(f"{where}: {key} must be a list of CSS selectors (strings)")
        return ()
    return tuple(value)
