"""The agent's view looks like the customer's page (PRODUCT.md S7, §11).

Each page here exercises one thing a mirror rebuilt from the rrweb stream could get
wrong: a cross-origin stylesheet with a web font, ``srcset``, CSS-in-JS (rules
inserted through the CSSOM), constructed stylesheets adopted by the document, a
same-origin iframe, an open shadow root, an inner panel and the page scrolled by the
customer, a modal dialog; and a site the resource proxy cannot reach at all, whose
stylesheet and images the customer's script sends inline.
The customer's page (1000x700) and the agent's mirror (shown at 1:1) are
screenshotted and compared pixel by pixel: the share of pixels differing by more
than ``CHANNEL_TOLERANCE`` in some colour channel (antialiasing) must stay at or
under ``MAX_DIFFERENT_PIXELS``. The measured share is printed (``pytest -s``), and
on failure both screenshots and the difference are left in test-results/.

The pages live on a website of this module's own; their stylesheets, fonts and
images on a second server ("assets", like a CDN) that the site allows as a
resource host, so the agent's browser gets them through the resource proxy. The
"intranet" site is registered without the private-address switch: the proxy
fetches nothing of it.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops
from playwright.sync_api import Browser, Page, ViewportSize, expect
from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from cobrowse.store.db import Database
from cobrowse.store.sites import SiteStore
from tests.e2e.conftest import page_of
from tests.e2e.helpers import artifacts, join, mirror, record_frames, sign_in
from tests.e2e.test_stream_filter import FONT_FILE, png
from tests.support import (
    Deployment,
    deploy,
    free_port,
    plain_server,
    run_async,
    set_restrictions,
)

SITE = "fidelity"
CHANNEL_TOLERANCE = 48
"""Per colour channel (0-255): less than this is antialiasing, not a difference."""
MAX_DIFFERENT_PIXELS = 0.01
"""At most 1 % of the pixels may differ (measured: see README, "Fidelity")."""
VIEWPORT: ViewportSize = {"width": 1000, "height": 700}

HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<script src="{cobrowse}/cobrowse.js" data-ui="none" defer></script>
<style>body {{ margin: 24px; font: 18px/1.4 sans-serif; color: #222; background: #f7f5ef; }}</style>
"""

PAGES: dict[str, str] = {
    # A stylesheet the customer's page cannot read (another origin, no CORS): it stays
    # a link, through the proxy, and so do its font and background image.
    "fonts": """<link rel="stylesheet" href="{assets}/css/fonts.css">
</head><body>
<h1 class="brand">Web fonts</h1>
<p class="brand small">Served from another origin, through the proxy.</p>
<div class="tiles"></div>
</body></html>""",
    "srcset": """</head><body>
<h1>Responsive images</h1>
<img alt="one" width="200" height="100" src="{assets}/img/red-1x.png"
     srcset="{assets}/img/green-1x.png 1x, {assets}/img/blue-2x.png 2x">
<picture><source srcset="{assets}/img/green-1x.png"><img alt="two" width="120" height="60"
  src="{assets}/img/red-1x.png"></picture>
</body></html>""",
    # Rules inserted through the CSSOM leave the <style> element empty; more come
    # after the agent joined.
    "cssinjs": """<script>
const sheet = document.head.appendChild(document.createElement("style")).sheet;
sheet.insertRule(".card { background: #fde; border: 4px solid #c36; padding: 20px; }");
sheet.insertRule(".card { width: 400px; }", 1);
sheet.insertRule(".card h2 { color: #c36; font: bold 28px sans-serif; margin: 0; }", 2);
window.afterJoin = () => {
  sheet.insertRule(".late { background: rgb(20, 120, 60); width: 300px; height: 60px; }", 3);
  sheet.deleteRule(0);
  sheet.insertRule(".card { background: #def; border: 4px solid #36c; padding: 30px; }", 0);
  sheet.insertRule(".card { width: 500px; }", 1);
};
</script>
</head><body>
<h1>CSS in JS</h1>
<div class="card"><h2>Inserted rules</h2><p>No text in any style element.</p></div>
<div class="late"></div>
</body></html>""",
    "adopted": """<script>
const first = new CSSStyleSheet();
first.replaceSync(".adopted { background: rgb(30, 60, 200); color: white; padding: 16px; }");
first.insertRule(".adopted { width: 500px; }", 1);
document.adoptedStyleSheets = [first];
window.afterJoin = () => {
  const second = new CSSStyleSheet();
  second.replaceSync(".later { background: rgb(200, 120, 0); height: 50px; width: 250px; }");
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, second];
  first.insertRule(".adopted { border: 6px solid rgb(0, 160, 80); }", 2);
};
</script>
</head><body>
<h1>Constructed stylesheets</h1>
<div class="adopted">Styled by an adopted stylesheet.</div>
<div class="later"></div>
</body></html>""",
    "iframe": """</head><body>
<h1>Same-origin iframe</h1>
<iframe src="/inner.html" width="600" height="260" style="border: 3px solid #345"></iframe>
</body></html>""",
    "shadow": """<script>
customElements.define("fancy-card", class extends HTMLElement {
  constructor() {
    super();
    const root = this.attachShadow({ mode: "open" });
    root.innerHTML = '<style>:host { display: block; width: 520px; border: 5px solid #693; }' +
      ' .title { font: bold 26px sans-serif; color: #693; padding: 12px; }</style>' +
      '<div class="title">Shadow title</div>' +
      '<div class="adopted">Adopted in the shadow</div><slot></slot>';
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(".adopted { background: rgb(240, 200, 40); padding: 10px; }");
    root.adoptedStyleSheets = [sheet];
  }
});
</script>
</head><body>
<h1>Open shadow DOM</h1>
<fancy-card><p>Slotted light-DOM text.</p></fancy-card>
</body></html>""",
    "scroll": """<style>
#panel { width: 420px; height: 300px; overflow: auto; border: 2px solid #555; background: white; }
.row { height: 40px; line-height: 40px; padding-left: 12px; border-bottom: 1px solid #ccc; }
</style>
<script>
document.addEventListener("DOMContentLoaded", () => {
  const panel = document.getElementById("panel");
  for (let row = 1; row <= 40; row += 1) {
    // A colour of its own per row: any other offset changes most of the panel.
    panel.insertAdjacentHTML("beforeend",
      `<div class="row" style="background: hsl(${row * 9}, 70%, 75%)">Row ${row}</div>`);
  }
  panel.scrollTop = 250;
});
window.afterJoin = () => { document.getElementById("panel").scrollTop = 610; };
</script>
</head><body>
<h1>Scrolled panel</h1>
<div id="panel"></div>
</body></html>""",
    # The page itself scrolled, before and after the agent joined.
    "pagescroll": """<style>
.band { height: 120px; line-height: 120px; padding-left: 16px; font-size: 28px; }
</style>
<script>
document.addEventListener("DOMContentLoaded", () => {
  for (let band = 1; band <= 30; band += 1) {
    document.body.insertAdjacentHTML("beforeend",
      `<div class="band" style="background: hsl(${band * 12}, 60%, 70%)">Band ${band}</div>`);
  }
  window.scrollTo(0, 430);
});
window.afterJoin = () => window.scrollTo(0, 1210);
</script>
</head><body>
<h1>Scrolled page</h1>
</body></html>""",
    # A modal dialog lives in the top layer, with a backdrop: rrweb records the mode.
    "dialog": """<style>
dialog { width: 320px; height: 100px; background: #fc0; border: 4px solid #a50; }
dialog::backdrop { background: rgba(20, 30, 90, 0.5); }
</style>
<script>
document.addEventListener("DOMContentLoaded", () => document.getElementById("ask").showModal());
</script>
</head><body>
<h1>Modal dialog</h1>
<p>Behind the backdrop.</p>
<dialog id="ask">Shown with showModal().</dialog>
</body></html>""",
}

INNER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Inner</title>
<style>body { margin: 12px; font: 20px sans-serif; background: #eef6ee; }
.inner { color: #2a6; border: 3px dashed #2a6; padding: 10px; }</style>
</head><body><p class="inner">Inside the iframe</p>
<img alt="inner" width="60" height="30" src="/img/inner.png"></body></html>"""

INTRANET = "intranet"
LOGO_COLOUR, LATE_COLOUR, CORS_COLOUR = (20, 90, 200), (230, 120, 10), (90, 20, 120)
SECRET_COLOUR = (13, 13, 13)
INTRANET_PAGE = """<link rel="stylesheet" href="/css/intranet.css">
</head><body>
<h1>Intranet</h1>
<div class="panel">Styled by a stylesheet only the customer can read.</div>
<div class="badge"></div>
<img id="logo" alt="logo" width="80" height="40" src="/img/logo.png">
<img id="cors" alt="cors" width="80" height="40" crossorigin="anonymous"
     src="{assets}/img/cors.png">
<div class="secret"><img id="secret" alt="" width="80" height="40" src="/img/secret.png"></div>
<script>
window.afterJoin = () => document.querySelector(".secret").insertAdjacentHTML("beforebegin",
  '<p><img id="late" alt="late" width="80" height="40" src="/img/late.png"></p>');
</script>
</body></html>"""

INTRANET_CSS = """@font-face {
  font-family: "IntranetFont"; src: url("../fonts/shop.ttf") format("truetype");
}
.panel { background: rgb(10, 120, 90); color: white; padding: 12px;
  border: 7px solid rgb(200, 0, 100); width: 480px; margin-bottom: 12px;
  font-family: "IntranetFont", monospace; }
.badge { width: 160px; height: 24px; background: url("../img/tile.png"); }
"""

FONTS_CSS = """@font-face {
  font-family: "ShopFont"; src: url("../fonts/shop.ttf") format("truetype");
}
.brand { font-family: "ShopFont", monospace; color: #1b3a6b; font-size: 44px; }
.small { font-size: 22px; }
.tiles { width: 320px; height: 120px; background: url("../img/tile.png"); }
"""


def asset_files(folder: Path) -> None:
    for name in ("css", "img", "fonts"):
        (folder / name).mkdir()
    (folder / "css" / "fonts.css").write_text(FONTS_CSS)
    (folder / "css" / "intranet.css").write_text(INTRANET_CSS)
    for name, colour in (
        ("logo", LOGO_COLOUR),
        ("late", LATE_COLOUR),
        ("cors", CORS_COLOUR),
        ("secret", SECRET_COLOUR),
    ):
        (folder / "img" / f"{name}.png").write_bytes(png(80, 40, colour))
    (folder / "img" / "red-1x.png").write_bytes(png(200, 100, (220, 30, 30)))
    (folder / "img" / "green-1x.png").write_bytes(png(200, 100, (30, 170, 60)))
    (folder / "img" / "blue-2x.png").write_bytes(png(400, 200, (30, 60, 220)))
    (folder / "img" / "tile.png").write_bytes(checkerboard())
    (folder / "img" / "inner.png").write_bytes(png(60, 30, (120, 40, 160)))
    shutil.copy(FONT_FILE, folder / "fonts" / "shop.ttf")


def checkerboard() -> bytes:
    image = Image.new("RGB", (16, 16), (240, 150, 40))
    for x in range(8):
        for y in range(8):
            image.putpixel((x, y), (40, 40, 120))
            image.putpixel((x + 8, y + 8), (40, 40, 120))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def files_app(folder: Path, pages: dict[str, str]) -> Starlette:
    async def page(request: HttpRequest) -> Response:
        name = request.path_params["name"]
        if name not in pages:
            return PlainTextResponse("No such page.", status_code=404)
        return HTMLResponse(pages[name])

    async def asset(request: HttpRequest) -> Response:
        target = (folder / request.path_params["path"]).resolve()
        if not target.is_relative_to(folder) or not target.is_file():
            return PlainTextResponse("No such file.", status_code=404)
        # Like a CDN: fonts from another origin load only with CORS.
        return FileResponse(target, headers={"Access-Control-Allow-Origin": "*"})

    return Starlette(routes=[Route("/{name}.html", page), Route("/{path:path}", asset)])


@dataclass
class Website:
    deployment: Deployment
    site: str
    assets: str
    intranet: str


@pytest.fixture(scope="module")
def website(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Website]:
    running = deploy(tmp_path_factory.mktemp("cobrowse"), {})
    folder = tmp_path_factory.mktemp("assets").resolve()
    asset_files(folder)
    site_port, assets_port, intranet_port = free_port(), free_port(), free_port()
    site = f"http://localhost:{site_port}"
    assets = f"http://127.0.0.1:{assets_port}"
    intranet = f"http://localhost:{intranet_port}"

    async def register() -> None:
        db = Database(running.settings.database_url)
        try:
            sites = SiteStore(db)
            await sites.add(SITE, [site, f"http://127.0.0.1:{site_port}"])
            # Both servers are on localhost: only tests and the demo may allow that.
            await sites.change_resources(
                SITE, add=[f"127.0.0.1:{assets_port}"], allow_private_addresses=True
            )
            # The intranet site keeps the switch off: the proxy reaches none of it.
            await sites.add(INTRANET, [intranet])
        finally:
            await db.close()

    run_async(register)
    head = {"cobrowse": running.url, "assets": assets}
    pages = {
        name: HEAD.format(title=name, **head) + body.replace("{assets}", assets)
        for name, body in PAGES.items()
    }
    pages["inner"] = INNER_PAGE
    intranet_pages = {"intranet": HEAD.format(title="intranet", **head) + INTRANET_PAGE}
    for port, app in (
        (site_port, files_app(folder, pages)),
        (assets_port, files_app(folder, {})),
        (
            intranet_port,
            files_app(
                folder,
                {name: page.replace("{assets}", assets) for name, page in intranet_pages.items()},
            ),
        ),
    ):
        server = plain_server(app, port)
        server.start()
        running.threads.append(server)
    yield Website(running, site, assets, intranet)
    running.stop()


@pytest.fixture
def deployment(website: Website) -> Deployment:
    return website.deployment


@pytest.fixture
def wide_agent(browser: Browser) -> Iterator[Page]:
    """An agent whose console has room for the customer's 1000x700 view at 1:1."""
    yield from page_of(browser, 1600, 1200)


MIRROR = 'iframe[title="Customer view"]'

RESOURCES_SETTLED = """(doc) => {
  const documents = [doc, ...[...doc.querySelectorAll("iframe")].map((f) => f.contentDocument)];
  return documents.every((d) => !d || (d.fonts.status === "loaded" &&
    [...d.images].every((image) => image.complete)));
}"""


def settled(target: Page, in_mirror: bool) -> bool:
    """Whether every image and font of the page (or the mirror) has loaded."""
    if in_mirror:
        return bool(
            target.evaluate(
                f"() => ({RESOURCES_SETTLED})(document.querySelector('{MIRROR}').contentDocument)"
            )
        )
    return bool(target.evaluate(f"() => ({RESOURCES_SETTLED})(document)"))


def different_share(first: Image.Image, second: Image.Image) -> tuple[float, Image.Image]:
    """The share of pixels that differ beyond the tolerance, and where they are."""
    difference = ImageChops.difference(first.convert("RGB"), second.convert("RGB"))
    red, green, blue = difference.split()
    largest = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    mask = largest.point(lambda value: 255 if value >= CHANNEL_TOLERANCE else 0)
    different = mask.histogram()[255]
    return different / (first.width * first.height), mask


@dataclass
class Comparison:
    share: float
    customer: Image.Image
    agent: Image.Image
    mask: Image.Image | None


def compare(customer: Page, agent: Page, height: int) -> Comparison:
    seen = Image.open(io.BytesIO(customer.screenshot())).crop((0, 0, VIEWPORT["width"], height))
    box = agent.locator(MIRROR).bounding_box()
    assert box is not None
    # The console may place the view at a fraction of a pixel (the line heights above
    # it); the browser draws it at the nearest whole one.
    clip = {"x": round(box["x"]), "y": round(box["y"]), "width": seen.width, "height": seen.height}
    mirrored = Image.open(io.BytesIO(agent.screenshot(clip=clip)))  # type: ignore[arg-type]
    if seen.size != mirrored.size:
        return Comparison(1.0, seen, mirrored, None)
    share, mask = different_share(seen, mirrored)
    return Comparison(share, seen, mirrored, mask)


def wait_until(check: object, attempts: int = 100, page: Page | None = None) -> bool:
    assert callable(check)
    for _ in range(attempts):
        if check():
            return True
        if page is not None:
            page.wait_for_timeout(100)
    return False


def share_page(
    deployment: Deployment, url: str, agent_name: str, customer: Page, agent: Page
) -> list[str]:
    """The customer opens ``url`` and starts co-browsing without the widget; the agent
    joins and sees it at 1:1. Returns the URLs the agent's browser requests."""
    customer.set_viewport_size(VIEWPORT)
    customer.goto(url)
    customer.wait_for_function("() => window.Cobrowse !== undefined")
    session = customer.evaluate("() => window.Cobrowse.start()")
    sign_in(agent, deployment, agent_name)
    requested: list[str] = []
    agent.on("request", lambda request: requested.append(request.url))
    join(agent, session["id"])
    expect(agent.get_by_role("button", name="Exit session")).to_be_visible()
    heading = customer.locator("h1").inner_text()
    expect(mirror(agent).get_by_role("heading", name=heading)).to_be_visible()
    # The agent's pointer stays off the customer's page; the mirror shows at 1:1.
    agent.mouse.move(1, 1)
    box = agent.locator(MIRROR).bounding_box()
    assert box is not None
    assert (round(box["width"]), round(box["height"])) == (1000, 700)
    return requested


def assert_looks_alike(
    name: str, customer: Page, agent: Page, height: int = VIEWPORT["height"]
) -> None:
    """Both sides have loaded everything, then look the same (MAX_DIFFERENT_PIXELS),
    in the top ``height`` pixels."""
    assert wait_until(lambda: settled(customer, False), page=customer)
    assert wait_until(lambda: settled(agent, True), page=agent)
    # The mirror applies what the stream carries as it arrives: compare until the two
    # agree or the stream has had ample time to (no timing is asserted).
    comparison = compare(customer, agent, height)
    for _ in range(50):
        if comparison.share <= MAX_DIFFERENT_PIXELS:
            break
        agent.wait_for_timeout(100)
        comparison = compare(customer, agent, height)
    print(f"fidelity {name}: {comparison.share:.4%} of pixels differ")
    if comparison.share > MAX_DIFFERENT_PIXELS:
        folder = artifacts()
        comparison.customer.save(folder / f"fidelity-{name}-customer.png")
        comparison.agent.save(folder / f"fidelity-{name}-agent.png")
        if comparison.mask is not None:
            comparison.mask.save(folder / f"fidelity-{name}-difference.png")
    assert comparison.share <= MAX_DIFFERENT_PIXELS, (
        f"{name}: {comparison.share:.2%} of pixels differ (screenshots in test-results/)"
    )


@pytest.mark.parametrize("name", list(PAGES))
def test_mirror_looks_like_the_customer_page(
    website: Website, name: str, agent_name: str, customer: Page, wide_agent: Page
) -> None:
    agent = wide_agent
    url = f"{website.site}/{name}.html"
    requested = share_page(website.deployment, url, agent_name, customer, agent)
    if customer.evaluate("() => typeof window.afterJoin === 'function'"):
        customer.evaluate("() => window.afterJoin()")
    assert_looks_alike(name, customer, agent)
    # S7: everything came through cobrowse.
    assert not [url for url in requested if url.startswith((website.site, website.assets))]


def mirror_value(agent: Page, function_of_document: str) -> Any:
    return agent.evaluate(
        f"() => ({function_of_document})(document.querySelector('{MIRROR}').contentDocument)"
    )


def data_images(frames: list[str]) -> list[tuple[int, int, int]]:
    """The colour of every PNG data: URL in the frames (the test's images are solid)."""
    colours = []
    for found in re.finditer(r"data:image/png;base64,([A-Za-z0-9+/=]+)", "".join(frames)):
        image = Image.open(io.BytesIO(base64.b64decode(found.group(1)))).convert("RGB")
        pixel = image.getpixel((0, 0))
        assert isinstance(pixel, tuple)
        colours.append((int(pixel[0]), int(pixel[1]), int(pixel[2])))
    return colours


def test_what_the_proxy_cannot_fetch_comes_inline_from_the_customer(
    website: Website, agent_name: str, customer: Page, wide_agent: Page
) -> None:
    """An intranet site: its own origin is on a private address and the site has no
    private-address switch, so the proxy fetches nothing of it. The customer's script
    sends what the page can read: the stylesheet's text, same-origin images, and a
    CORS image from a host the site never allowed. Masked images stay home."""
    agent = wide_agent
    deployment = website.deployment
    set_restrictions(
        deployment, INTRANET, {"rules": [{"pattern": "/intranet.html", "mask": [".secret"]}]}
    )
    sent = record_frames(customer)
    url = f"{website.intranet}/intranet.html"
    requested = share_page(deployment, url, agent_name, customer, agent)
    customer.evaluate("() => window.afterJoin()")  # an image added while the agent watches
    expect(mirror(agent).locator("#late")).to_have_count(1)
    # Above the masked part, which each side marks in its own way.
    masked_top = customer.locator(".secret").bounding_box()
    assert masked_top is not None
    assert_looks_alike("intranet", customer, agent, height=int(masked_top["y"]) - 4)

    # The stylesheet came as text (rrweb puts a <style> in the link's place).
    panel = mirror_value(
        agent,
        "(doc) => { const style = doc.defaultView.getComputedStyle(doc.querySelector('.panel'));"
        " return [style.backgroundColor, style.borderTopColor, style.borderTopWidth]; }",
    )
    assert panel == ["rgb(10, 120, 90)", "rgb(200, 0, 100)", "7px"]
    # Its font and background image came inline too, fetched by the customer's page.
    badge = mirror_value(
        agent,
        "(doc) => doc.defaultView.getComputedStyle(doc.querySelector('.badge')).backgroundImage",
    )
    assert badge.startswith('url("data:image/png;base64,')
    assert mirror_value(
        agent,
        "(doc) => [...doc.fonts].some((face) => face.family.replace(/\"/g, '') === "
        "'IntranetFont' && face.status === 'loaded')",
    )
    # Each inlined image follows its element in a mutation of its own, once drawn.
    for inlined in ("logo", "late", "cors"):
        expect(mirror(agent).locator(f"#{inlined}")).to_have_attribute(
            "src", re.compile(r"^data:image/png;base64,")
        )
    sources = mirror_value(
        agent,
        "(doc) => Object.fromEntries([...doc.images].map((image) => "
        "[image.id, [image.getAttribute('src') || '', image.naturalWidth]]))",
    )
    for inlined in ("logo", "late", "cors"):
        assert sources[inlined][0].startswith("data:image/png;base64,"), inlined
        assert sources[inlined][1] > 0, inlined
    assert not sources["secret"][0].startswith("data:")
    assert SECRET_COLOUR not in data_images(sent)
    assert {LOGO_COLOUR, LATE_COLOUR, CORS_COLOUR} <= set(data_images(sent))
    # S7: the agent's browser asked neither the site nor the other host for anything.
    assert not [url for url in requested if url.startswith((website.intranet, website.assets))]
