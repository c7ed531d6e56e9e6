"""Stylesheets through the proxy: every reference in them is rewritten to go through
it too, resolved against the stylesheet's own URL."""

from __future__ import annotations

from cobrowse.proxy.css import StylesheetTemplate, render_stylesheet, stylesheet_template

SHEET_URL = "https://shop.example.com/css/site.css"


def rewrite(css: str | bytes, allowed: str = "https://shop.example.com/", **kwargs: str) -> str:
    """The stylesheet as an agent gets it: allowed URLs as [[URL]], others blocked."""
    body = css.encode("utf-8") if isinstance(css, str) else css
    template = stylesheet_template(body, SHEET_URL, **kwargs)
    return render_stylesheet(
        template, lambda url: f"[[{url}]]" if url.startswith(allowed) else None
    )


def test_url_tokens_and_quoted_urls_are_rewritten() -> None:
    css = ".a { background: url(img/a.png) } .b { background: url( 'img/b.png' ) }"
    assert rewrite(css) == (
        '.a { background: url("[[https://shop.example.com/css/img/a.png]]") } '
        '.b { background: url( "[[https://shop.example.com/css/img/b.png]]" ) }'
    )


def test_imports_are_rewritten_in_both_forms() -> None:
    css = "@import \"base.css\";\n@import url(print.css) print;\n@IMPORT 'x.css' screen;"
    assert rewrite(css) == (
        '@import "[[https://shop.example.com/css/base.css]]";\n'
        '@import url("[[https://shop.example.com/css/print.css]]") print;\n'
        '@IMPORT "[[https://shop.example.com/css/x.css]]" screen;'
    )


def test_font_faces_and_image_sets_are_rewritten() -> None:
    css = (
        '@font-face { font-family: Shop; src: url(../fonts/shop.woff2) format("woff2"),'
        ' url(/fonts/shop.woff) format("woff") }\n'
        '.hero { background-image: image-set("hero.png" 1x, url(hero@2x.png) 2x);'
        ' background: -webkit-image-set("hero.avif" type("image/avif")) }'
    )
    assert rewrite(css) == (
        '@font-face { font-family: Shop; src: url("[[https://shop.example.com/fonts/shop.woff2]]")'
        ' format("woff2"), url("[[https://shop.example.com/fonts/shop.woff]]") format("woff") }\n'
        '.hero { background-image: image-set("[[https://shop.example.com/css/hero.png]]" 1x,'
        ' url("[[https://shop.example.com/css/hero@2x.png]]") 2x);'
        ' background: -webkit-image-set("[[https://shop.example.com/css/hero.avif]]"'
        ' type("image/avif")) }'
    )


def test_references_deep_in_blocks_are_found() -> None:
    css = (
        "@media (min-width: 40em) { @supports (display: grid) { .x { cursor: url(c.cur), auto } } }"
    )
    assert '"[[https://shop.example.com/css/c.cur]]"' in rewrite(css)


def test_disallowed_hosts_and_other_schemes_become_harmless() -> None:
    css = (
        ".a { background: url(https://tracker.example.net/pixel.gif) }"
        ' .b { background: url("javascript:alert(1)") }'
        " .c { background: url(file:///etc/passwd) }"
    )
    assert rewrite(css) == (
        '.a { background: url("about:invalid") }'
        ' .b { background: url("about:invalid") }'
        ' .c { background: url("about:invalid") }'
    )


def test_inline_data_and_same_document_references_are_left_alone() -> None:
    css = (
        ".a { background: url(data:image/png;base64,iVBORw0KGgo=) }"
        " .b { filter: url(#blur) } .c { background: url() }"
    )
    assert rewrite(css) == css


def test_comments_strings_and_namespaces_are_not_references() -> None:
    css = (
        "@namespace svg url(http://www.w3.org/2000/svg);\n"
        "/* background: url(old.png) */\n"
        '.a::before { content: "url(not-a-url.png)" }'
    )
    assert rewrite(css) == css


def test_everything_else_is_kept_as_written_but_for_string_quotes() -> None:
    css = (
        '@charset "utf-8";\n:root { --brand: #c33; }\n'
        ".a > .b:not(.c)[data-x='1'] { margin: 0 auto !important; content: '\\201C' }\n"
        ".d { background: url(d.png) no-repeat 50% / cover }\n"
    )
    assert rewrite(css) == (
        '@charset "utf-8";\n:root { --brand: #c33; }\n'
        '.a > .b:not(.c)[data-x="1"] { margin: 0 auto !important; content: "\u201c" }\n'
        '.d { background: url("[[https://shop.example.com/css/d.png]]") no-repeat 50% / cover }\n'
    )


def test_escapes_are_read_as_browsers_read_them() -> None:
    assert '"[[https://shop.example.com/css/a(1).png]]"' in rewrite(
        r".a { background: url(a\(1\).png) }"
    )
    assert '"[[https://shop.example.com/css/quote\\".png]]"' in rewrite(
        r'.a { background: url("quote\".png") }'
    )


def test_the_encoding_is_found_as_browsers_find_it() -> None:
    latin1 = '.a::after { content: "caf\xe9" } .b { background: url(caf\xe9.png) }'.encode(
        "latin-1"
    )
    from_header = rewrite(latin1, protocol_charset="iso-8859-1")
    assert 'content: "café"' in from_header
    assert '"[[https://shop.example.com/css/café.png]]"' in from_header
    from_rule = rewrite(b'@charset "iso-8859-1";\n' + latin1)
    assert 'content: "café"' in from_rule
    with_bom = rewrite(b"\xef\xbb\xbf" + '.a::after { content: "café" }'.encode())
    assert with_bom.endswith('content: "café" }')


def test_a_template_is_text_and_urls_taking_turns() -> None:
    template = stylesheet_template(b".a{background:url(a.png)}.b{background:url(b.png)}", SHEET_URL)
    assert template.urls == (
        "https://shop.example.com/css/a.png",
        "https://shop.example.com/css/b.png",
    )
    assert template.pieces[0] == ".a{background:url("
    assert render_stylesheet(StylesheetTemplate(template.pieces), lambda url: None) == (
        '.a{background:url("about:invalid")}.b{background:url("about:invalid")}'
    )


def test_a_rendered_link_cannot_break_out_of_its_string() -> None:
    template = stylesheet_template(b".a{background:url(a.png)}", SHEET_URL)
    rendered = render_stylesheet(template, lambda url: 'x") } body { color: red } ("\n')
    assert rendered == '.a{background:url("x\\") } body { color: red } (\\"\\a ")}'
