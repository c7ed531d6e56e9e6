"""Stylesheets through the proxy: every reference in them goes through it too.

A stylesheet names fonts, background images and other stylesheets with
``url(...)``, ``@import "..."``, ``src("...")`` and ``image-set("..." 1x)``. Left
alone, the agent's browser would fetch those from the website. tinycss2 tokenizes
the stylesheet as browsers do (escapes, comments, strings, blocks); every
reference is resolved against the stylesheet's own URL and replaced.

The work is split in two so the result can be cached and shared by sessions:
:func:`stylesheet_template` (slow, once per fetch) turns the stylesheet into a
:class:`StylesheetTemplate`, text with a hole for each absolute URL, and
:func:`render_stylesheet` (fast, per request) fills each hole with that session's
proxy link, or ``about:invalid`` for a host the site does not allow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import tinycss2
import tinycss2.ast

from cobrowse.core.resource_urls import (
    BLOCKED_REFERENCE,
    absolute_resource_url,
    harmless_data_url,
    stays_inline,
)

HOLE = "\x00"
"""Marks a reference in a template. CSS cannot contain it: the tokenizer turns
U+0000 into U+FFFD, in the source and in escapes alike."""

# Functions whose string arguments are URLs to load.
_URL_FUNCTIONS = frozenset({"url", "src", "image-set", "-webkit-image-set"})

# Old browsers ran script from CSS: IE's expression() and behavior, Firefox's XBL
# -moz-binding. No current browser does; renamed all the same, as defence in depth.
_SCRIPTING_FUNCTIONS = frozenset({"expression"})
_SCRIPTING_PROPERTIES = frozenset({"behavior", "-moz-binding"})
NEUTRALIZED = "-cobrowse-removed"


@dataclass(frozen=True)
class StylesheetTemplate:
    """``pieces`` alternates text and absolute URLs: text, URL, text, ..., text."""

    pieces: tuple[str, ...]

    @property
    def urls(self) -> tuple[str, ...]:
        return self.pieces[1::2]


def stylesheet_template(
    body: bytes, stylesheet_url: str, protocol_charset: str | None = None
) -> StylesheetTemplate:
    """Decode (BOM, the Content-Type charset, ``@charset``, else UTF-8, as browsers
    do), tokenize, and take out every reference."""
    text, _encoding = tinycss2.bytes.decode_stylesheet_bytes(
        body, protocol_encoding=protocol_charset
    )
    return css_text_template(text, stylesheet_url)


def css_text_template(text: str, base_url: str) -> StylesheetTemplate:
    """Like :func:`stylesheet_template` for CSS that is already text (a style
    attribute, a ``<style>`` element or a CSSOM rule in the stream), its references
    resolved against ``base_url``."""
    nodes: list[Any] = tinycss2.parse_component_value_list(text)
    urls: list[str] = []
    rewritten = list(_rewrite(nodes, base_url, urls))
    serialized: str = tinycss2.serialize(rewritten)
    pieces = serialized.split(HOLE)
    if len(pieces) != len(urls) + 1:  # cannot happen, see HOLE; never mix up references
        raise ValueError("the stylesheet could not be rewritten")
    woven: list[str] = []
    for index, text_piece in enumerate(pieces):
        if index:
            woven.append(urls[index - 1])
        woven.append(text_piece)
    return StylesheetTemplate(tuple(woven))


def render_stylesheet(template: StylesheetTemplate, link: Callable[[str], str | None]) -> str:
    """The stylesheet with each URL replaced by ``link(url)``, or ``about:invalid``
    when ``link`` gives None."""
    out: list[str] = []
    for index, piece in enumerate(template.pieces):
        if index % 2 == 0:
            out.append(piece)
        else:
            out.append(_css_string(link(piece) or BLOCKED_REFERENCE))
    return "".join(out)


def _css_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ")
    return f'"{escaped}"'


class _UrlHole(tinycss2.ast.Node):  # type: ignore[misc]
    """Stands for an unquoted ``url(...)`` while serializing."""

    __slots__ = ()
    type = "url"

    def _serialize_to(self, write: Callable[[str], object]) -> None:
        write(f"url({HOLE})")


class _StringHole(tinycss2.ast.Node):  # type: ignore[misc]
    """Stands for a string that is a URL: in ``url("...")``, ``@import "..."``,
    ``image-set("..." 1x)``."""

    __slots__ = ()
    type = "string"

    def _serialize_to(self, write: Callable[[str], object]) -> None:
        write(HOLE)


def _rewrite(nodes: Iterable[Any], base: str, urls: list[str]) -> Iterator[Any]:
    """``nodes`` with each reference replaced by a hole (its URL appended to ``urls``),
    looking into every block and function."""
    skipping_namespace = False
    expecting_import = False
    for node in nodes:
        kind = node.type
        if kind in ("whitespace", "comment"):
            yield node
            continue
        if skipping_namespace:
            # @namespace svg url(http://www.w3.org/2000/svg): a name, not a fetch.
            skipping_namespace = not (kind == "literal" and node.value == ";")
            yield node
            continue
        importing, expecting_import = expecting_import, False
        if kind == "at-keyword":
            skipping_namespace = node.lower_value == "namespace"
            expecting_import = node.lower_value == "import"
            yield node
        elif kind == "url":
            yield _reference(node, _UrlHole, base, urls)
        elif kind == "string" and importing:
            yield _reference(node, _StringHole, base, urls)
        elif kind == "ident" and node.lower_value in _SCRIPTING_PROPERTIES:
            node.value = NEUTRALIZED
            yield node
        elif kind == "function":
            if node.lower_name in _SCRIPTING_FUNCTIONS:
                node.name = NEUTRALIZED
            strings_are_urls = node.lower_name in _URL_FUNCTIONS
            node.arguments = [
                _reference(child, _StringHole, base, urls)
                if strings_are_urls and child.type == "string"
                else child
                for child in _rewrite(node.arguments, base, urls)
            ]
            yield node
        elif kind in ("() block", "[] block", "{} block"):
            node.content = list(_rewrite(node.content, base, urls))
            yield node
        else:
            yield node


def _reference(node: Any, hole: type[Any], base: str, urls: list[str]) -> Any:
    reference: str = node.value
    if stays_inline(reference):
        # data: only for images and fonts: @import url(data:text/css,...) would bring
        # in a stylesheet nobody rewrote.
        if reference.strip()[:5].lower() != "data:" or harmless_data_url(reference):
            return node
        urls.append(BLOCKED_REFERENCE)
        return hole(node.source_line, node.source_column)
    urls.append(absolute_resource_url(reference, base) or BLOCKED_REFERENCE)
    return hole(node.source_line, node.source_column)
