"""Benchmark (a): a DOM change on the customer's page until it shows in the agent's mirror.

Everything runs in one Chromium on this machine, so every page reads the same
clock: ``performance.timeOrigin + performance.now()`` (sub-millisecond).

* cobrowse: the customer page (``bench/pages/customer.html``, the real
  ``cobrowse.js``) changes the text of ``#marker`` and notes t0; in the agent console
  a MutationObserver on the mirror iframe's document notes t1 when that value
  appears (re-installed if the iframe or its document is replaced).
* bare relay: page A sends ``{value, t0}`` over a WebSocket to a relay that forwards
  it to page B, which sets its ``#marker`` text; the same MutationObserver code
  notes t1. Both relays run in this process on server threads, on the same
  uvicorn + Starlette stack (see :mod:`bench.bare_relay`).

Rounds alternate between the two so that background noise hits both alike.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from playwright.sync_api import Browser, Page, WebSocket, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from tests.browser import launch_chromium
from tests.e2e.helpers import join_and_see, sign_in
from tests.support import ServerThread, deploy, free_port

from bench import bare_relay
from bench.stats import deflated_sizes

PAGES = Path(__file__).parent / "pages"

# Installed in the watching page. mode "mirror": observe the agent console's mirror
# iframe document; mode "self": observe the page's own document. t1 is the time the
# MutationObserver callback runs for the mutation that put the value in the DOM.
WATCH_JS = """
(mode) => {
  const seen = new Map();
  let observed = null;
  let observer = null;
  let installs = 0;
  const note = (text, t) => {
    if (text && text.startsWith("bench-") && !seen.has(text)) seen.set(text, t);
  };
  const onMutations = (records) => {
    const t = performance.timeOrigin + performance.now();
    for (const record of records) {
      if (record.type === "characterData") note(record.target.data, t);
      for (const node of record.addedNodes) {
        if (node.nodeType === 3) note(node.data, t);
        else if (node.id === "marker") note(node.textContent, t);
      }
    }
  };
  const target = () =>
    mode === "mirror"
      ? document.querySelector('iframe[title="Customer view"]')?.contentDocument ?? null
      : document;
  const install = () => {
    const doc = target();
    if (!doc || doc === observed) return;
    observer?.disconnect();
    observed = doc;
    observer = new MutationObserver(onMutations);
    observer.observe(doc, { subtree: true, childList: true, characterData: true });
    installs += 1;
  };
  install();
  new MutationObserver(install).observe(document.documentElement, {
    subtree: true,
    childList: true,
  });
  setInterval(install, 100);
  window.__bench = { seen, installs: () => installs };
}
"""

# Installed before any page script of the watching page: notes when each benchmark
# value first reaches a WebSocket "message" listener of the page, which splits the
# latency into "network + relay" and "page work until the DOM shows it".
ARRIVALS_JS = """
(() => {
  const arrivals = new Map();
  window.__benchArrivals = arrivals;
  const add = WebSocket.prototype.addEventListener;
  WebSocket.prototype.addEventListener = function (type, listener, options) {
    if (type === "message" && typeof listener === "function") {
      const inner = listener;
      listener = function (event) {
        const t = performance.timeOrigin + performance.now();
        if (typeof event.data === "string" && event.data.length < 4096) {
          for (const value of event.data.match(/bench-[a-z]-\\w+-\\d+/g) ?? []) {
            if (!arrivals.has(value)) arrivals.set(value, t);
          }
        }
        return inner.call(this, event);
      };
    }
    return add.call(this, type, listener, options);
  };
})();
"""

# (high-resolution clock - Date.now()) averaged over 30 ms of samples: the
# difference between two pages estimates how far apart their clocks are.
CLOCK_OFFSET_JS = """
() => {
  const end = performance.now() + 30;
  let sum = 0;
  let count = 0;
  while (performance.now() < end) {
    sum += performance.timeOrigin + performance.now() - Date.now();
    count += 1;
  }
  return sum / count;
}
"""


@dataclass
class Side:
    """What one relay (cobrowse or bare) measured."""

    latencies_ms: list[float] = field(default_factory=list)
    arrival_ms: list[float] = field(default_factory=list)
    """t0 until the value reached the watching page's WebSocket message listener."""
    apply_ms: list[float] = field(default_factory=list)
    """From reaching the socket listener until the value shows in the watched DOM."""
    changes: int = 0
    missing: int = 0
    frames: int = 0
    payload_bytes: int = 0
    wire_bytes_estimate: int = 0
    clock_skew_ms: float = 0.0
    largest_frame_bytes: int = 0
    heap_growth_bytes: float = 0.0
    """Growth of the watching page's JS heap (after a full GC) over the kept rounds."""


@dataclass
class BrowserResult:
    cobrowse: Side
    bare: Side
    chromium: str
    rounds: int
    gap_ms: tuple[int, int]
    mirror_installs: int


class Pair:
    """A sending page and a watching page connected through one relay."""

    def __init__(self, sender: Page, watcher: Page, prefix: str, socket_path: str) -> None:
        self.sender = sender
        self.watcher = watcher
        self.prefix = prefix
        self.side = Side()
        self.sent_frames: list[bytes] = []

        def on_socket(socket: WebSocket) -> None:
            if socket.url.endswith(socket_path):
                socket.on("framesent", self._record)

        sender.on("websocket", on_socket)
        watcher.add_init_script(ARRIVALS_JS)

    def _record(self, payload: str | bytes) -> None:
        self.sent_frames.append(payload.encode() if isinstance(payload, str) else payload)

    def run_round(self, label: str, count: int, gap_ms: tuple[int, int], keep: bool) -> None:
        prefix = f"{self.prefix}-{label}"
        first_frame = len(self.sent_frames)
        sent = cast(
            list[list[Any]],
            self.sender.evaluate(
                "([n, a, b, p]) => window.benchRun(n, a, b, p)", [count, *gap_ms, prefix]
            ),
        )
        values = [str(value) for value, _ in sent]
        with contextlib.suppress(PlaywrightTimeout):
            self.watcher.wait_for_function(
                "(v) => window.__bench.seen.has(v)", arg=values[-1], timeout=10_000
            )
        # Let Playwright deliver the last framesent events of this round.
        self.sender.wait_for_timeout(150)
        arrived = cast(
            list[float | None],
            self.watcher.evaluate(
                "(vs) => vs.map((v) => window.__bench.seen.get(v) ?? null)", values
            ),
        )
        reached = cast(
            list[float | None],
            self.watcher.evaluate(
                "(vs) => vs.map((v) => window.__benchArrivals.get(v) ?? null)", values
            ),
        )
        if not keep:
            return
        side = self.side
        side.changes += count
        for (_, t0), shown, socket in zip(sent, arrived, reached, strict=True):
            if shown is None:
                side.missing += 1
            else:
                side.latencies_ms.append(float(shown) - float(t0))
            if socket is not None:
                side.arrival_ms.append(float(socket) - float(t0))
                if shown is not None:
                    side.apply_ms.append(float(shown) - float(socket))
        window = self.sent_frames[first_frame:]
        wire = deflated_sizes(self.sent_frames)[first_frame:]
        side.frames += len(window)
        side.payload_bytes += sum(len(frame) for frame in window)
        side.wire_bytes_estimate += sum(wire)
        side.largest_frame_bytes = max(len(frame) for frame in self.sent_frames)

    def heap_used(self) -> float:
        """The watching page's used JS heap after a full garbage collection, in bytes."""
        cdp = self.watcher.context.new_cdp_session(self.watcher)
        try:
            cdp.send("HeapProfiler.collectGarbage")
            usage = cdp.send("Runtime.getHeapUsage")
        finally:
            cdp.detach()
        return float(usage["usedSize"])

    def measure_clock_skew(self) -> None:
        sender = float(self.sender.evaluate(CLOCK_OFFSET_JS))
        watcher = float(self.watcher.evaluate(CLOCK_OFFSET_JS))
        self.side.clock_skew_ms = watcher - sender


def _new_page(browser: Browser, width: int, height: int) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(15_000)
    return context.new_page()


def run(
    changes: int = 300,
    rounds: int = 6,
    gap_ms: tuple[int, int] = (30, 50),
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> BrowserResult:
    per_round = changes // rounds
    with tempfile.TemporaryDirectory(prefix="cobrowse-bench-") as tmp:
        deployment = deploy(Path(tmp), {"bench": PAGES})
        bare = ServerThread(bare_relay.config(free_port()))
        try:
            bare.start()
            bare_url = f"http://localhost:{bare.port}"
            agent_name = deployment.add_agent("bench-agent")
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                try:
                    progress(f"(a) Chromium {browser.version}: opening the pages")
                    customer = _new_page(browser, 1000, 700)
                    agent = _new_page(browser, 1400, 1000)
                    sender = _new_page(browser, 1000, 700)
                    receiver = _new_page(browser, 1000, 700)
                    cobrowse = Pair(customer, agent, "bench-c", "/ws/customer")
                    baseline = Pair(sender, receiver, "bench-b", "/in")

                    customer.goto(f"{deployment.site_urls['bench']}/customer.html")
                    customer.wait_for_function("() => window.Cobrowse !== undefined")
                    customer.evaluate("() => new Promise((r) => window.Cobrowse.on('ready', r))")
                    session = cast(
                        dict[str, str], customer.evaluate("() => window.Cobrowse.start()")
                    )
                    sign_in(agent, deployment, agent_name)
                    view = join_and_see(agent, session["id"], "Ridge 40L Backpack")
                    view.locator("#marker").filter(has_text="ready").wait_for()
                    agent.evaluate(WATCH_JS, "mirror")

                    receiver.goto(f"{bare_url}/receiver")
                    receiver.evaluate("() => window.benchReady")
                    sender.goto(f"{bare_url}/sender")
                    sender.evaluate("() => window.benchReady")
                    receiver.evaluate(WATCH_JS, "self")

                    for pair in (cobrowse, baseline):  # warm-up, not counted
                        pair.run_round("warm", 10, gap_ms, keep=False)
                    heap_before = {pair: pair.heap_used() for pair in (cobrowse, baseline)}
                    for number in range(rounds):
                        order = (cobrowse, baseline) if number % 2 == 0 else (baseline, cobrowse)
                        for pair in order:
                            pair.run_round(f"r{number}", per_round, gap_ms, keep=True)
                        progress(f"(a) round {number + 1}/{rounds} done")
                    for pair, before in heap_before.items():
                        pair.side.heap_growth_bytes = pair.heap_used() - before
                    cobrowse.measure_clock_skew()
                    baseline.measure_clock_skew()
                    installs = int(agent.evaluate("() => window.__bench.installs()"))
                    version = browser.version
                finally:
                    browser.close()
        finally:
            bare.stop()
            deployment.stop()
    return BrowserResult(cobrowse.side, baseline.side, version, rounds, gap_ms, installs)
