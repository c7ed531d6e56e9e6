"""What the server lets through of the customer's rrweb stream (PRODUCT.md S7, §8).

The customer's script records the page with rrweb; the agent's console rebuilds it
in a sandboxed iframe that runs no script. The stream is still the customer's
browser talking, and a page (or a crafted client) controls every byte of it, so
before a ``stream`` frame reaches an agent the server makes it harmless and makes
it load nothing from the website itself:

- elements that run, navigate or re-base the mirror (``<script>``, SVG
  ``<script>``, ``<base>``, ``<meta http-equiv>``) become an inert ``<template>``
  that keeps the node's ID, so later mutations that name it still apply; what is
  added inside them is dropped;
- ``on*`` event handler attributes and ``srcdoc`` are removed;
- links (``<a href>``, ``<area href>``) stay only when they are http(s) or a
  fragment: the console intercepts link clicks, but ``javascript:`` and the like
  must not even be there;
- form ``action``/``formaction`` become ``about:invalid``;
- every other URL attribute (``src``, ``srcset``, ``poster``, ``background``, link
  ``href``, SVG ``href``/``xlink:href``, ``data``...) and every CSS reference (style
  attributes, ``<style>`` text, ``_cssText``, CSSOM rules and declarations, font
  sources) is resolved against the page URL (from rrweb's Meta event) and becomes a
  link to the resource proxy when the site allows its host, else ``about:invalid``;
  ``data:`` URLs stay only when they are images or fonts (a ``data:text/html`` is a
  document), fragments stay as they are;
- CSS that ran script in old browsers (``expression()``, ``behavior``,
  ``-moz-binding``) is renamed (proxy.css);
- event types and incremental sources the customer's script never records (canvas,
  plugins, custom elements...) are dropped.

Pure: no I/O. One :class:`StreamFilter` per customer connection, since it follows
the page (its URL, which node is which element) from event to event.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from cobrowse.core.resource_urls import (
    BLOCKED_REFERENCE,
    absolute_resource_url,
    harmless_data_url,
    proxied_url,
)
from cobrowse.proxy.css import StylesheetTemplate, css_text_template, render_stylesheet

# rrweb 2.x: EventType, NodeType and IncrementalSource.
FULL_SNAPSHOT, INCREMENTAL_SNAPSHOT, META = 2, 3, 4
_PASSED_EVENT_TYPES = frozenset({0, 1, 5})  # DomContentLoaded, Load, Custom (restrictions)
ELEMENT_NODE, TEXT_NODE = 2, 3
MUTATION, STYLE_SHEET_RULE, FONT, STYLE_DECLARATION, ADOPTED_STYLE_SHEET = 0, 8, 10, 13, 15
# Mouse, scroll, viewport, input, touch, media, drag, selection: coordinates, IDs and
# input text, nothing that loads or runs.
_PASSED_SOURCES = frozenset({1, 2, 3, 4, 5, 6, 7, 12, 14})

_INERT_ELEMENTS = frozenset({"script", "base"})
PLACEHOLDER_TAG = "template"
"""What a removed element becomes: never rendered, its children never run."""

_LINK_ELEMENTS = frozenset({"a", "area"})
# Documents inside the mirror: rrweb records a same-origin frame's document itself,
# and the proxy serves no documents, so what these would load is always blocked.
_EMBEDDING_ELEMENTS = frozenset({"iframe", "frame", "object", "embed", "applet", "portal"})
_FORM_TARGETS = frozenset({"action", "formaction"})
_SRCSET_ATTRIBUTES = frozenset({"srcset", "imagesrcset"})
_URL_ATTRIBUTES = frozenset(
    {
        "href",
        "src",
        "xlink:href",
        "poster",
        "background",
        "data",
        "codebase",
        "classid",
        "archive",
        "cite",
        "longdesc",
        "lowsrc",
        "dynsrc",
        "manifest",
        "icon",
        "profile",
        "usemap",
        "ping",
        "rr_src",
        "rr_dataurl",
    }
)
_REMOVED_ATTRIBUTES = frozenset({"srcdoc", "http-equiv"})
_CSS_ATTRIBUTES = frozenset({"style", "_csstext"})
# What a URL-looking value of any attribute must not start with.
_SCRIPT_SCHEMES = re.compile(r"^[\x00-\x20]*(javascript|vbscript|livescript)\s*:", re.IGNORECASE)
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20]")
# CSS without any of these holds no reference and nothing to rename: left as it is,
# unparsed, which is most style attributes.
_CSS_NEEDLES = ("url", "@import", "\\", "image-set", "src", "expression", "binding", "behavior")
_TEMPLATE_CACHE_SIZE = 64


class StreamFilter:
    """Filters one customer connection's rrweb events for the agent."""

    def __init__(
        self, session_id: str, resource_token: str, host_allowed: Callable[[str], bool]
    ) -> None:
        self._session_id = session_id
        self._resource_token = resource_token
        self._host_allowed = host_allowed
        self.page_url = ""
        """The recorded page's URL, from the last Meta event; "" before the first."""
        self._tags: dict[int, str] = {}
        """Lower-case tag name of each element node seen, by rrweb ID."""
        self._inert: set[int] = set()
        """IDs of elements replaced by the placeholder."""
        self._style_texts: set[int] = set()
        """IDs of text nodes inside ``<style>``: their text is CSS."""
        self._templates: OrderedDict[tuple[str, str], StylesheetTemplate] = OrderedDict()

    def event(self, event: Any) -> Any | None:
        """The event as it may reach the agent (changed in place), or None to drop it."""
        if not isinstance(event, dict):
            return None
        kind = event.get("type")
        data = event.get("data")
        if kind in _PASSED_EVENT_TYPES:
            return event
        if not isinstance(data, dict):
            return None
        if kind == INCREMENTAL_SNAPSHOT:
            return event if self._incremental(data) else None
        if kind == FULL_SNAPSHOT:
            # A new page, or the same page again for a new agent: IDs start over.
            self._tags.clear()
            self._inert.clear()
            self._style_texts.clear()
            node = data.get("node")
            if not isinstance(node, dict) or self._node(node, None) is None:
                return None
            return event
        if kind == META:
            href = data.get("href")
            if isinstance(href, str) and absolute_resource_url(href, "") is not None:
                self.page_url = href
                return event
            data["href"] = ""
            return event
        return None

    # Nodes -----------------------------------------------------------------------

    def _node(self, node: dict[str, Any], parent_tag: str | None) -> dict[str, Any] | None:
        """The serialized node (and its children) made harmless, or None to drop it."""
        node_id = node.get("id")
        kind = node.get("type")
        if kind == ELEMENT_NODE:
            self._element(node)
        elif kind == TEXT_NODE and (node.get("isStyle") or parent_tag == "style"):
            if isinstance(node_id, int):
                self._style_texts.add(node_id)
            text = node.get("textContent")
            if isinstance(text, str):
                node["textContent"] = self._css(text)
        children = node.get("childNodes")
        if children is None:
            return node
        if not isinstance(children, list):
            node["childNodes"] = []
            return node
        tag = self._tags.get(node_id) if isinstance(node_id, int) else None
        kept = []
        for child in children:
            if isinstance(child, dict) and (filtered := self._node(child, tag)) is not None:
                kept.append(filtered)
        node["childNodes"] = kept
        return node

    def _element(self, node: dict[str, Any]) -> None:
        raw_tag = node.get("tagName")
        tag = raw_tag.lower() if isinstance(raw_tag, str) else ""
        attributes = node.get("attributes")
        if not isinstance(attributes, dict):
            attributes = {}
        node_id = node.get("id")
        if tag in _INERT_ELEMENTS or (tag == "meta" and _has_http_equiv(attributes)):
            node["tagName"] = tag = PLACEHOLDER_TAG
            node["attributes"] = {}
            node["childNodes"] = []
            if isinstance(node_id, int):
                self._inert.add(node_id)
        else:
            node["attributes"] = self._attributes(tag, attributes)
        if isinstance(node_id, int):
            self._tags[node_id] = tag

    def _attributes(self, tag: str, attributes: dict[str, Any]) -> dict[str, Any]:
        kept: dict[str, Any] = {}
        for name, value in attributes.items():
            if not isinstance(name, str):
                continue
            filtered = self._attribute(tag, name.lower(), value)
            if filtered is not _REMOVE:
                kept[name] = filtered
        return kept

    def _attribute(self, tag: str, name: str, value: Any) -> Any:
        """The attribute's value for the agent, or _REMOVE. ``None`` (a mutation
        removing the attribute) is always allowed."""
        if name.startswith("on") or name in _REMOVED_ATTRIBUTES or _CONTROL_OR_SPACE.search(name):
            return _REMOVE
        if value is None or isinstance(value, bool | int | float):
            return value
        if name in _CSS_ATTRIBUTES:
            if isinstance(value, dict):  # rrweb's style diff: {property: value | [value, priority]}
                return self._style_diff(value)
            return self._css(value) if isinstance(value, str) else _REMOVE
        if not isinstance(value, str):
            return _REMOVE
        if name in _FORM_TARGETS:
            return BLOCKED_REFERENCE
        if name in _SRCSET_ATTRIBUTES:
            return self._srcset(value)
        if name in ("href", "xlink:href") and tag in _LINK_ELEMENTS:
            return value if _harmless_link(value, self.page_url) else _REMOVE
        if name in _URL_ATTRIBUTES:
            return BLOCKED_REFERENCE if tag in _EMBEDDING_ELEMENTS else self._resource(value)
        if _SCRIPT_SCHEMES.match(value):
            return _REMOVE
        return value

    def _style_diff(self, diff: dict[str, Any]) -> dict[str, Any]:
        kept: dict[str, Any] = {}
        for css_property, change in diff.items():
            if not isinstance(css_property, str):
                continue
            if css_property.lower() in ("behavior", "-moz-binding"):
                continue
            if isinstance(change, str):
                kept[css_property] = self._css(change)
            elif isinstance(change, list) and change and isinstance(change[0], str):
                kept[css_property] = [self._css(change[0]), *change[1:2]]
            elif change is False:
                kept[css_property] = False
        return kept

    # Incremental snapshots -------------------------------------------------------

    def _incremental(self, data: dict[str, Any]) -> bool:
        """Whether to keep the incremental snapshot (``data`` is changed in place)."""
        source = data.get("source")
        if source in _PASSED_SOURCES:
            return True
        if source == MUTATION:
            self._mutation(data)
            return True
        if source == STYLE_SHEET_RULE:
            if "adds" in data:
                data["adds"] = self._rules(data.get("adds"))
            # CSSStyleSheet.replace() and replaceSync(): a whole stylesheet's text.
            for whole_sheet in ("replace", "replaceSync"):
                if whole_sheet in data:
                    text = data[whole_sheet]
                    data[whole_sheet] = self._css(text) if isinstance(text, str) else ""
            return True
        if source == STYLE_DECLARATION:
            change = data.get("set")
            if isinstance(change, dict):
                css_property = change.get("property")
                value = change.get("value")
                if not isinstance(css_property, str) or css_property.lower() in (
                    "behavior",
                    "-moz-binding",
                ):
                    return False
                change["value"] = self._css(value) if isinstance(value, str) else ""
            return True
        if source == ADOPTED_STYLE_SHEET:
            styles = data.get("styles")
            if isinstance(styles, list):
                for style in styles:
                    if isinstance(style, dict):
                        style["rules"] = self._rules(style.get("rules"))
            return True
        if source == FONT:
            font_source = data.get("fontSource")
            if not isinstance(font_source, str):
                return False
            if not data.get("buffer"):  # a CSS src descriptor; else the font's bytes
                data["fontSource"] = self._css(font_source)
            return True
        return False

    def _mutation(self, data: dict[str, Any]) -> None:
        # Only the lists the event has are rewritten: a frame with nothing to change
        # reaches the agent as it came.
        if isinstance(adds := data.get("adds"), list):
            data["adds"] = [add for add in adds if self._added(add)]
        if isinstance(attributes := data.get("attributes"), list):
            data["attributes"] = [
                change for change in attributes if self._attributes_changed(change)
            ]
        if isinstance(texts := data.get("texts"), list):
            data["texts"] = [change for change in texts if self._text_changed(change)]

    def _added(self, add: Any) -> bool:
        """Whether to keep an added node (made harmless in place)."""
        if not isinstance(add, dict) or not isinstance(node := add.get("node"), dict):
            return False
        parent_id = add.get("parentId")
        if not isinstance(parent_id, int) or parent_id in self._inert:
            return False  # what a page puts inside a script stays out of the mirror
        return self._node(node, self._tags.get(parent_id)) is not None

    def _attributes_changed(self, change: Any) -> bool:
        if not isinstance(change, dict) or not isinstance(node_id := change.get("id"), int):
            return False
        values = change.get("attributes")
        if node_id in self._inert or not isinstance(values, dict):
            return False
        tag = self._tags.get(node_id, "")
        if tag == "meta" and _has_http_equiv(values):
            return False
        change["attributes"] = self._attributes(tag, values)
        return True

    def _text_changed(self, change: Any) -> bool:
        if not isinstance(change, dict):
            return False
        value = change.get("value")
        if change.get("id") in self._style_texts and isinstance(value, str):
            change["value"] = self._css(value)
        return True

    def _rules(self, rules: Any) -> list[Any]:
        kept = []
        for entry in rules if isinstance(rules, list) else ():
            if isinstance(entry, dict) and isinstance(entry.get("rule"), str):
                entry["rule"] = self._css(entry["rule"])
                kept.append(entry)
        return kept

    # References ------------------------------------------------------------------

    def _resource(self, reference: str) -> str:
        """What the agent's browser loads for a resource reference: a proxy link,
        the reference itself when it loads nothing from the network, or about:invalid."""
        stripped = reference.strip()
        if not stripped or stripped.startswith("#"):
            return reference
        if stripped[:5].lower() == "data:":
            return reference if harmless_data_url(stripped) else BLOCKED_REFERENCE
        return self._link(absolute_resource_url(stripped, self.page_url)) or BLOCKED_REFERENCE

    def _link(self, absolute: str | None) -> str | None:
        if absolute is None or not self._host_allowed(absolute):
            return None
        try:
            return proxied_url(self._session_id, self._resource_token, absolute)
        except ValueError:
            return None

    def _srcset(self, srcset: str) -> str:
        # Candidates are "URL [descriptor]" separated by commas; rrweb writes them
        # absolute, one space after each comma.
        candidates = []
        for candidate in srcset.split(","):
            parts = candidate.split()
            if not parts:
                continue
            parts[0] = self._resource(parts[0])
            candidates.append(" ".join(parts))
        return ", ".join(candidates)

    def _css(self, text: str) -> str:
        lowered = text.lower()
        if not any(needle in lowered for needle in _CSS_NEEDLES):
            return text
        key = (text, self.page_url)
        template = self._templates.get(key)
        if template is None:
            try:
                template = css_text_template(text, self.page_url)
            except ValueError:
                return ""
            self._templates[key] = template
            if len(self._templates) > _TEMPLATE_CACHE_SIZE:
                self._templates.popitem(last=False)
        else:
            self._templates.move_to_end(key)
        return render_stylesheet(template, self._link)


class _Removed:
    """Marks an attribute to take out (None is a value: a mutation removing it)."""


_REMOVE: Any = _Removed()


def _has_http_equiv(attributes: dict[str, Any]) -> bool:
    return any(isinstance(name, str) and name.lower() == "http-equiv" for name in attributes)


def _harmless_link(href: str, page_url: str) -> bool:
    """Whether a link may stay as it is: to a fragment, or to an http(s) URL."""
    stripped = href.strip()
    return stripped.startswith("#") or absolute_resource_url(stripped, page_url) is not None
