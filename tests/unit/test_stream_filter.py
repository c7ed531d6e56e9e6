"""The server-side stream filter: hostile rrweb events in, harmless events out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cobrowse.core.resource_urls import BLOCKED_REFERENCE, parse_proxied_path
from cobrowse.core.stream_filter import PLACEHOLDER_TAG, StreamFilter

SESSION = "123456789"
TOKEN = "t" * 32
PAGE = "https://shop.example.com/cart/view"
ALLOWED = ("https://shop.example.com/", "https://cdn.example.net/")


def stream_filter() -> StreamFilter:
    allowed = StreamFilter(SESSION, TOKEN, lambda url: url.startswith(ALLOWED))
    allowed.event({"type": 4, "data": {"href": PAGE, "width": 800, "height": 600}})
    return allowed


def proxied(url: str) -> str:
    """The absolute URL a proxy link in filtered output stands for."""
    path, _, _fragment = url.partition("#")
    resource = parse_proxied_path(path)
    assert (resource.session_id, resource.resource_token) == (SESSION, TOKEN)
    return resource.url


def element(node_id: int, tag: str, children: list[Any] | None = None, /, **attributes: Any) -> Any:
    return {
        "type": 2,
        "id": node_id,
        "tagName": tag,
        "attributes": attributes,
        "childNodes": children or [],
    }


def text(node_id: int, content: str, **extra: Any) -> Any:
    return {"type": 3, "id": node_id, "textContent": content, **extra}


def full_snapshot(*body: Any) -> Any:
    html = element(2, "html", [element(3, "head"), element(4, "body", list(body))])
    return {
        "type": 2,
        "timestamp": 1,
        "data": {"node": {"type": 0, "id": 1, "childNodes": [html]}, "initialOffset": {}},
    }


def body_of(event: Any) -> list[Any]:
    children: list[Any] = event["data"]["node"]["childNodes"][0]["childNodes"][1]["childNodes"]
    return children


def only_element(node: Any) -> Any:
    """One element through a full snapshot."""
    event = stream_filter().event(full_snapshot(node))
    assert event is not None
    (filtered,) = body_of(event)
    return filtered


# Elements that run, navigate or re-base become an inert placeholder with their ID.
@pytest.mark.parametrize(
    "node",
    [
        element(10, "script", [text(11, "alert(1)")], src="https://evil.test/x.js"),
        element(10, "SCRIPT", [text(11, "alert(1)")]),
        element(10, "script", [text(11, "alert(1)")], isSVG=True),
        element(10, "base", href="https://evil.test/"),
        element(10, "meta", **{"http-equiv": "refresh", "content": "0;url=https://evil.test/"}),
        element(10, "meta", **{"HTTP-EQUIV": "Refresh", "content": "0;url=https://evil.test/"}),
    ],
)
def test_running_and_navigating_elements_become_inert(node: Any) -> None:
    filtered = only_element(node)
    assert filtered["id"] == 10
    assert filtered["tagName"] == PLACEHOLDER_TAG
    assert filtered["attributes"] == {}
    assert filtered["childNodes"] == []


# (tag, attribute, value, what the agent gets; None: the attribute is gone)
HOSTILE_ATTRIBUTES = [
    ("img", "onerror", "alert(1)", None),
    ("svg", "onload", "alert(1)", None),
    ("body", "OnLoad", "alert(1)", None),
    ("a", "href", "javascript:alert(1)", None),
    ("a", "href", " JaVaScRiPt:alert(1)", None),
    ("a", "href", "java\tscript:alert(1)", None),
    ("a", "href", "vbscript:msgbox(1)", None),
    ("a", "href", "data:text/html,<script>alert(1)</script>", None),
    ("a", "xlink:href", "javascript:alert(1)", None),
    ("a", "href", "https://shop.example.com/next", "https://shop.example.com/next"),
    ("a", "href", "https://elsewhere.test/", "https://elsewhere.test/"),
    ("a", "href", "#top", "#top"),
    ("form", "action", "https://evil.test/steal", BLOCKED_REFERENCE),
    ("button", "formaction", "https://evil.test/steal", BLOCKED_REFERENCE),
    ("iframe", "srcdoc", "<script>alert(1)</script>", None),
    ("iframe", "src", "https://shop.example.com/frame", BLOCKED_REFERENCE),
    ("object", "data", "https://shop.example.com/x.swf", BLOCKED_REFERENCE),
    ("embed", "src", "data:image/svg+xml,<svg onload=alert(1)>", BLOCKED_REFERENCE),
    ("img", "src", "javascript:alert(1)", BLOCKED_REFERENCE),
    ("img", "src", "data:text/html,<b>x</b>", BLOCKED_REFERENCE),
    ("img", "src", "data:image/png;base64,iVBORw0KGgo=", "data:image/png;base64,iVBORw0KGgo="),
    ("img", "src", "https://evil.test/pixel.gif", BLOCKED_REFERENCE),
    ("img", "src", "https://shop.example.com@evil.test/x.png", BLOCKED_REFERENCE),
    ("link", "href", "https://evil.test/x.css", BLOCKED_REFERENCE),
    ("image", "xlink:href", "https://evil.test/x.png", BLOCKED_REFERENCE),
    ("use", "href", "#icon", "#icon"),
    ("div", "title", "javascript:alert(1)", None),
    ("div", "title", "a title", "a title"),
    (
        "div",
        "style",
        "background: url(https://evil.test/x.png)",
        f"background: url({BLOCKED_REFERENCE!r})",
    ),
    ("div", "style", "width: expression(alert(1))", "width: -cobrowse-removed(alert(1))"),
    ("div", "style", "-moz-binding: url(https://evil.test/x.xml#x)", None),
    ("div", "style", "color: red", "color: red"),
]


@pytest.mark.parametrize(("tag", "name", "value", "expected"), HOSTILE_ATTRIBUTES)
def test_hostile_attributes(tag: str, name: str, value: str, expected: str | None) -> None:
    filtered = only_element(element(10, tag, **{name: value}))
    if expected is None and name == "style":
        assert "evil.test" not in filtered["attributes"][name]
        assert "binding" not in filtered["attributes"][name]
    elif expected is None:
        assert name not in filtered["attributes"]
    else:
        assert filtered["attributes"][name] == expected.replace("'", '"')


# (tag, attribute, value, the URLs the agent's browser gets through the proxy)
RESOURCES = [
    ("img", "src", "https://shop.example.com/a.png", ["https://shop.example.com/a.png"]),
    ("img", "src", "/a.png", ["https://shop.example.com/a.png"]),
    ("img", "src", "b.png", ["https://shop.example.com/cart/b.png"]),
    ("img", "src", "https://cdn.example.net/c.png", ["https://cdn.example.net/c.png"]),
    ("input", "src", "https://shop.example.com/go.png", ["https://shop.example.com/go.png"]),
    ("video", "poster", "/poster.jpg", ["https://shop.example.com/poster.jpg"]),
    ("image", "xlink:href", "/i.svg", ["https://shop.example.com/i.svg"]),
    ("use", "href", "/sprite.svg#icon", ["https://shop.example.com/sprite.svg"]),
    ("link", "href", "/site.css", ["https://shop.example.com/site.css"]),
    ("td", "background", "/bg.png", ["https://shop.example.com/bg.png"]),
]


@pytest.mark.parametrize(("tag", "name", "value", "urls"), RESOURCES)
def test_resources_go_through_the_proxy(tag: str, name: str, value: str, urls: list[str]) -> None:
    filtered = only_element(element(10, tag, **{name: value}))
    assert [proxied(filtered["attributes"][name])] == urls


def test_srcset_candidates_each_go_through_the_proxy_or_are_blocked() -> None:
    srcset = "/a-1x.png 1x, https://cdn.example.net/a-2x.png 2x,https://evil.test/a.png 3x"
    filtered = only_element(element(10, "img", srcset=srcset))
    candidates = [candidate.split() for candidate in filtered["attributes"]["srcset"].split(", ")]
    assert [proxied(candidates[0][0]), proxied(candidates[1][0])] == [
        "https://shop.example.com/a-1x.png",
        "https://cdn.example.net/a-2x.png",
    ]
    assert candidates[2] == [BLOCKED_REFERENCE, "3x"]
    assert [candidate[1] for candidate in candidates] == ["1x", "2x", "3x"]


def test_fragments_of_proxied_references_stay_fragments() -> None:
    filtered = only_element(element(10, "use", href="/sprite.svg#icon"))
    assert filtered["attributes"]["href"].endswith("#icon")


STYLESHEET = """
@import url(https://evil.test/track.css);
@import "/more.css";
@font-face { font-family: Shop; src: url(/fonts/shop.woff2) format("woff2"); }
body { background: url(https://evil.test/bg.png), url("/bg.png"); }
"""


def css_urls(css: str) -> list[str]:
    """Every url("...") in ``css``, decoded from proxy links (or about:invalid)."""
    return [
        piece if piece == BLOCKED_REFERENCE else proxied(piece)
        for piece in css.split('"')[1::2]
        if piece == BLOCKED_REFERENCE or piece.startswith("/resources/")
    ]


@pytest.mark.parametrize("where", ["style text", "_cssText"])
def test_stylesheets_in_the_page_are_rewritten(where: str) -> None:
    if where == "style text":
        node = element(10, "style", [text(11, STYLESHEET, isStyle=True)])
    else:
        node = element(10, "link", rel="stylesheet", _cssText=STYLESHEET)
    filtered = only_element(node)
    css = (
        filtered["childNodes"][0]["textContent"]
        if where == "style text"
        else (filtered["attributes"]["_cssText"])
    )
    assert "evil.test" not in css
    assert css_urls(css) == [
        BLOCKED_REFERENCE,
        "https://shop.example.com/more.css",
        "https://shop.example.com/fonts/shop.woff2",
        BLOCKED_REFERENCE,
        "https://shop.example.com/bg.png",
    ]


def mutation(**data: Any) -> Any:
    return {
        "type": 3,
        "timestamp": 2,
        "data": {"source": 0, "adds": [], "removes": [], "texts": [], "attributes": [], **data},
    }


def test_mutations_add_nothing_hostile() -> None:
    stream = stream_filter()
    stream.event(full_snapshot(element(10, "style", [text(11, "p{}", isStyle=True)])))
    event = stream.event(
        mutation(
            adds=[
                {"parentId": 4, "nextId": None, "node": element(20, "script")},
                {"parentId": 20, "nextId": None, "node": text(21, "alert(1)")},
                {
                    "parentId": 4,
                    "nextId": None,
                    "node": element(22, "img", onerror="x", src="/a.png"),
                },
                {
                    "parentId": 10,
                    "nextId": None,
                    "node": text(23, "p{background:url(//evil.test/x)}"),
                },
            ],
            attributes=[
                {"id": 22, "attributes": {"onload": "alert(1)", "src": "https://evil.test/y.png"}},
                {"id": 20, "attributes": {"src": "https://evil.test/x.js"}},
                {"id": 4, "attributes": {"style": {"background": "url(https://evil.test/z.png)"}}},
            ],
            texts=[{"id": 11, "value": "p{background:url(https://evil.test/t.png)}"}],
        )
    )
    assert event is not None
    data = event["data"]
    assert [add["node"]["id"] for add in data["adds"]] == [20, 22, 23]
    assert data["adds"][0]["node"]["tagName"] == PLACEHOLDER_TAG
    assert data["adds"][1]["node"]["attributes"].keys() == {"src"}
    assert [change["id"] for change in data["attributes"]] == [22, 4]
    assert data["attributes"][0]["attributes"] == {"src": BLOCKED_REFERENCE}
    assert "evil.test" not in json.dumps(event)


def test_cssom_rules_declarations_and_fonts_are_rewritten() -> None:
    stream = stream_filter()
    evil = "url(https://evil.test/x.png)"
    events = [
        {
            "type": 3,
            "data": {
                "source": 8,
                "id": 10,
                "adds": [{"rule": f"p{{background:{evil}}}", "index": 0}],
            },
        },
        {
            "type": 3,
            "data": {
                "source": 13,
                "id": 10,
                "index": [0],
                "set": {"property": "background", "value": evil},
            },
        },
        {
            "type": 3,
            "data": {
                "source": 15,
                "id": 1,
                "styleIds": [1],
                "styles": [{"styleId": 1, "rules": [{"rule": f"a{{background:{evil}}}"}]}],
            },
        },
        {
            "type": 3,
            "data": {
                "source": 10,
                "family": "F",
                "fontSource": evil,
                "buffer": False,
                "descriptors": {},
            },
        },
    ]
    for event in events:
        filtered = stream.event(event)
        assert filtered is not None
        assert "evil.test" not in json.dumps(filtered)
        assert BLOCKED_REFERENCE in json.dumps(filtered)
    replaced = {
        "type": 3,
        "data": {"source": 8, "id": 10, "replaceSync": f"p{{background:{evil}}}"},
    }
    filtered_sheet = stream.event(replaced)
    assert filtered_sheet is not None
    assert filtered_sheet["data"]["replaceSync"] == f'p{{background:url("{BLOCKED_REFERENCE}")}}'
    binding = {
        "type": 3,
        "data": {
            "source": 13,
            "id": 10,
            "index": [0],
            "set": {"property": "-moz-binding", "value": evil},
        },
    }
    assert stream.event(binding) is None


@pytest.mark.parametrize(
    "event",
    [
        {"type": 3, "data": {"source": 9, "id": 5, "type": 0, "commands": []}},  # canvas
        {"type": 3, "data": {"source": 11}},  # log
        {"type": 3, "data": {"source": 16, "define": {"name": "x-evil"}}},  # custom element
        {"type": 6, "data": {"plugin": "x", "payload": {}}},
        {"type": 99, "data": {}},
        {"ts": "no type"},
        ["not", "an", "event"],
        {"type": 2, "data": {"node": "not a node"}},
    ],
)
def test_what_the_customer_script_never_records_is_dropped(event: Any) -> None:
    assert stream_filter().event(event) is None


def test_pointer_like_events_pass_untouched() -> None:
    event = {"type": 3, "timestamp": 5, "data": {"source": 3, "id": 1, "x": 0, "y": 100}}
    assert stream_filter().event(json.loads(json.dumps(event))) == event


def test_meta_with_a_script_url_does_not_become_the_base() -> None:
    stream = stream_filter()
    event = stream.event(
        {"type": 4, "data": {"href": "javascript:alert(1)", "width": 1, "height": 1}}
    )
    assert event is not None
    assert event["data"]["href"] == ""
    assert stream.page_url == PAGE


def test_relative_references_before_any_meta_are_blocked() -> None:
    stream = StreamFilter(SESSION, TOKEN, lambda url: True)
    event = stream.event(full_snapshot(element(10, "img", src="/a.png")))
    assert event is not None
    assert body_of(event)[0]["attributes"]["src"] == BLOCKED_REFERENCE


# What the customer's script sends in place of what the proxy cannot fetch -------


def test_inlined_stylesheet_text_is_sanitized_like_any_stylesheet() -> None:
    # rrweb's inlineStylesheet: the text of an intranet stylesheet the page could read,
    # its references made absolute against the stylesheet's own URL.
    css = (
        '@import url("data:text/css,p{background:url(https://evil.test/x.png)}");\n'
        '@font-face { font-family: F; src: url("data:font/woff2;base64,d09GMgAB"); }\n'
        '.logo { background: url("data:image/png;base64,iVBORw0KGgo="); }\n'
        '.doc { background: url("data:text/html,<script>alert(1)</script>"); }\n'
        '.cdn { background: url("https://cdn.example.net/a.png"); }\n'
        '.intranet { background: url("https://intranet.corp/b.png"); }\n'
    )
    filtered = only_element(element(10, "link", rel="stylesheet", _cssText=css))
    inlined = filtered["attributes"]["_cssText"]
    assert "evil.test" not in inlined
    assert "text/css" not in inlined
    assert "text/html" not in inlined
    assert "<script>" not in inlined
    assert "data:font/woff2;base64,d09GMgAB" in inlined
    assert "data:image/png;base64,iVBORw0KGgo=" in inlined
    assert css_urls(inlined) == [
        BLOCKED_REFERENCE,
        BLOCKED_REFERENCE,
        "https://cdn.example.net/a.png",
        BLOCKED_REFERENCE,
    ]


def test_inlined_stylesheet_text_added_later_is_sanitized() -> None:
    stream = stream_filter()
    stream.event(full_snapshot())
    css = ".a { background: url(https://intranet.corp/a.png) } .b { background: url(/b.png) }"
    added = element(20, "link", rel="stylesheet", _cssText=css)
    event = stream.event(mutation(adds=[{"parentId": 3, "nextId": None, "node": added}]))
    assert event is not None
    inlined = event["data"]["adds"][0]["node"]["attributes"]["_cssText"]
    assert css_urls(inlined) == [BLOCKED_REFERENCE, "https://shop.example.com/b.png"]
    changed = stream.event(mutation(attributes=[{"id": 20, "attributes": {"_cssText": css}}]))
    assert changed is not None
    assert changed["data"]["attributes"][0]["attributes"]["_cssText"] == inlined


def test_inlined_images_pass_only_as_images() -> None:
    stream = stream_filter()
    stream.event(full_snapshot(element(10, "img", src="https://intranet.corp/logo.png")))
    png = "data:image/png;base64,iVBORw0KGgo="
    inlined = stream.event(
        mutation(attributes=[{"id": 10, "attributes": {"src": png, "srcset": None}}])
    )
    assert inlined is not None
    assert inlined["data"]["attributes"][0]["attributes"] == {"src": png, "srcset": None}
    for hostile in ("data:text/html,<script>alert(1)</script>", "data:,x", "data:text/css,p{}"):
        changed = stream.event(mutation(attributes=[{"id": 10, "attributes": {"src": hostile}}]))
        assert changed is not None
        assert changed["data"]["attributes"][0]["attributes"] == {"src": BLOCKED_REFERENCE}


def test_a_same_origin_iframe_keeps_its_document_but_loads_nothing() -> None:
    # rrweb records a same-origin frame's document as the iframe node's child.
    inner_body = element(33, "body", [element(34, "p", [text(35, "Inside")], style="color: red")])
    inner = {
        "type": 0,
        "id": 30,
        "rootId": 30,
        "childNodes": [element(31, "html", [element(32, "head"), inner_body], rootId=30)],
    }
    frame = element(10, "iframe", src="https://shop.example.com/inner.html")
    frame["childNodes"] = [inner]
    filtered = only_element(frame)
    assert filtered["attributes"]["src"] == BLOCKED_REFERENCE
    (document,) = filtered["childNodes"]
    assert document["rootId"] == 30
    assert "Inside" in json.dumps(document)
    # Its document arriving later (the frame loaded after the snapshot) is kept too.
    stream = stream_filter()
    stream.event(full_snapshot(element(10, "iframe")))
    event = stream.event(mutation(adds=[{"parentId": 10, "nextId": None, "node": inner}]))
    assert event is not None
    assert "Inside" in json.dumps(event["data"]["adds"])


def test_adopted_stylesheets_and_their_rules_keep_their_ids() -> None:
    stream = stream_filter()
    stream.event(full_snapshot())
    adopted = {
        "type": 3,
        "timestamp": 3,
        "data": {
            "source": 15,
            "id": 1,
            "styleIds": [1, 2],
            "styles": [
                {"styleId": 1, "rules": [{"rule": ".a { color: red }", "index": 0}]},
                {"styleId": 2, "rules": [{"rule": ".b { background: url(https://evil.test/x) }"}]},
            ],
        },
    }
    event = stream.event(adopted)
    assert event is not None
    assert event["data"]["styleIds"] == [1, 2]
    assert event["data"]["styles"][0] == {
        "styleId": 1,
        "rules": [{"rule": ".a { color: red }", "index": 0}],
    }
    assert "evil.test" not in json.dumps(event)
    rule = {
        "type": 3,
        "timestamp": 4,
        "data": {"source": 8, "styleId": 2, "adds": [{"rule": ".c { color: blue }", "index": 1}]},
    }
    event = stream.event(rule)
    assert event is not None
    assert event["data"] == {
        "source": 8,
        "styleId": 2,
        "adds": [{"rule": ".c { color: blue }", "index": 1}],
    }
