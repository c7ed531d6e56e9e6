"""The restrictions file: DOM restrictions of several sites as TOML, for people to
export, review (in version control, say) and import again (PRODUCT.md R5).

Its shape is the wire document of each site (``SiteRestrictions.to_wire``) under
``[sites.NAME]``. Reading a file checks all of it and reports every problem, so that
an import can refuse the whole file before anything is saved.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Collection, Mapping

import tomli_w

from cobrowse.core.restrictions import RestrictionError, Rule, SiteRestrictions

HEADER = """\
# cobrowse DOM restrictions, written by `cobrowse restrictions export`.
# Review or edit, then load with `cobrowse restrictions import FILE`: every site named
# here gets exactly what is written for it; sites not named are left as they are.
#
# [sites.NAME]                 a registered site (`cobrowse sites add NAME ...`)
# mask_payment_cards = true    mask card fields (autocomplete="cc-*"); password fields
#                              are always masked, that cannot be switched off
# disable_submit = true        the agent cannot submit forms (submit controls, Enter)
#
# [[sites.NAME.rules]]         any number; every rule whose pattern matches a page applies
# pattern = "/checkout*"       the page's path, whole: "*" matches anything, "/" included;
#                              "*" alone is every page; no query ("?") or fragment ("#")
# mask = ["#email"]            CSS selectors of elements whose value and text the agent
#                              never receives (a constant placeholder shows instead)
# disable = ["#delete"]        CSS selectors of elements the agent cannot click or type in
"""


def render(restrictions_by_site: Mapping[str, SiteRestrictions]) -> str:
    """The file for these sites, header comment first."""
    sites = {
        name: dict(restrictions.to_wire()) for name, restrictions in restrictions_by_site.items()
    }
    body = tomli_w.dumps({"sites": sites}) if sites else "# (no sites are registered)\n"
    return f"{HEADER}\n{body}"


def parse(text: str, registered_sites: Collection[str]) -> dict[str, SiteRestrictions]:
    """Every site's restrictions in the file; RestrictionError lists all problems,
    sites that are not registered among them."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RestrictionError([f"not valid TOML: {exc}"]) from None
    problems = [
        f"unknown key {json.dumps(key)} at the top of the file (the only one is sites)"
        for key in document
        if key != "sites"
    ]
    sites = document.get("sites", {})
    if not isinstance(sites, dict):
        raise RestrictionError([*problems, "sites must be a table: [sites.NAME]"])
    parsed: dict[str, SiteRestrictions] = {}
    for name, table in sites.items():
        if name not in registered_sites:
            problems.append(
                f"site {name}: not a registered site (register it first: "
                f"cobrowse sites add {name} --origin URL)"
            )
        if not isinstance(table, dict):
            problems.append(f"site {name}: must be a table: [sites.{name}]")
            continue
        try:
            restrictions = SiteRestrictions.from_wire(table, name)
        except RestrictionError as exc:
            problems.extend(exc.problems)
            continue
        parsed[name] = restrictions
    if problems:
        raise RestrictionError(problems)
    return parsed


def describe_changes(old: SiteRestrictions, new: SiteRestrictions) -> list[str]:
    """What an import changes for one site, one line per change; empty if nothing."""
    lines = [
        f"{switch}: {_toml(getattr(old, switch))} -> {_toml(getattr(new, switch))}"
        for switch in ("mask_payment_cards", "disable_submit")
        if getattr(old, switch) != getattr(new, switch)
    ]
    if old.rules == new.rules:
        return lines
    # Rules are compared by pattern; a pattern listed twice counts as one rule.
    before, after = _by_pattern(old.rules), _by_pattern(new.rules)
    for pattern, rule in after.items():
        if pattern not in before:
            lines.append(
                f"rule {json.dumps(pattern)} added: {len(rule.mask)} mask, "
                f"{len(rule.disable)} disable selectors"
            )
    for pattern in before:
        if pattern not in after:
            lines.append(f"rule {json.dumps(pattern)} removed")
    for pattern, rule in after.items():
        if pattern in before and before[pattern] != rule:
            edits = _list_edits("mask", before[pattern].mask, rule.mask)
            edits += _list_edits("disable", before[pattern].disable, rule.disable)
            lines.append(f"rule {json.dumps(pattern)}: {'; '.join(edits) or 'selectors reordered'}")
    if before == after:
        lines.append("rules rearranged (the same selectors for each pattern)")
    return lines


def _by_pattern(rules: tuple[Rule, ...]) -> dict[str, Rule]:
    merged: dict[str, Rule] = {}
    for rule in rules:
        known = merged.get(rule.pattern, Rule(rule.pattern))
        merged[rule.pattern] = Rule(
            rule.pattern, known.mask + rule.mask, known.disable + rule.disable
        )
    return merged


def _list_edits(kind: str, old: tuple[str, ...], new: tuple[str, ...]) -> list[str]:
    added = [selector for selector in new if selector not in old]
    removed = [selector for selector in old if selector not in new]
    edits = [f"{kind} +{json.dumps(selector)}" for selector in added]
    edits += [f"{kind} -{json.dumps(selector)}" for selector in removed]
    return edits


def _toml(value: bool) -> str:
    return "true" if value else "false"
