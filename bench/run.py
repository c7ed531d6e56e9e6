"""Run every benchmark side by side with its bare baseline and print one table each.

``python -m bench.run`` (``make bench``). The figures are for comparison within one
run on one machine: each cobrowse figure sits next to a bare baseline measured in
the same run, and the ratio is the number to quote. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path

from bench import browser_latency, relay_throughput
from bench.browser_latency import BrowserResult
from bench.relay_throughput import Measurement, RelayResult
from bench.stats import Row, median, percentile, render_table

RESULTS = Path(__file__).parent / "results"


def progress(line: str) -> None:
    print(f"  .. {line}", file=sys.stderr, flush=True)


def machine() -> dict[str, str]:
    model = "unknown"
    with Path("/proc/cpuinfo").open() as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": model,
        "python": platform.python_version(),
        "uvicorn": version("uvicorn"),
        "starlette": version("starlette"),
        "websockets": version("websockets"),
        "playwright": version("playwright"),
    }


def _mean(total: float, count: int) -> float:
    return total / count if count else math.nan


def _avg(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def browser_table(result: BrowserResult) -> str:
    c, b = result.cobrowse, result.bare

    p = percentile
    rows = [
        Row("change -> DOM latency mean (ms)", _avg(c.latencies_ms), _avg(b.latencies_ms)),
        Row("change -> DOM latency p50 (ms)", p(c.latencies_ms, 0.5), p(b.latencies_ms, 0.5)),
        Row("change -> DOM latency p99 (ms)", p(c.latencies_ms, 0.99), p(b.latencies_ms, 0.99)),
        Row("  of which socket arrival p50 (ms)", p(c.arrival_ms, 0.5), p(b.arrival_ms, 0.5)),
        Row("  of which socket arrival p99 (ms)", p(c.arrival_ms, 0.99), p(b.arrival_ms, 0.99)),
        Row("  of which socket -> DOM p50 (ms)", p(c.apply_ms, 0.5), p(b.apply_ms, 0.5)),
        Row("  of which socket -> DOM p99 (ms)", p(c.apply_ms, 0.99), p(b.apply_ms, 0.99)),
        Row("frames sent per change", _mean(c.frames, c.changes), _mean(b.frames, b.changes)),
        Row(
            "payload bytes sent per change",
            _mean(c.payload_bytes, c.changes),
            _mean(b.payload_bytes, b.changes),
            "{:.0f}",
        ),
        Row(
            "~wire bytes per change (deflate est.)",
            _mean(c.wire_bytes_estimate, c.changes),
            _mean(b.wire_bytes_estimate, b.changes),
            "{:.0f}",
        ),
        Row(
            "watching page JS heap growth per change (B)",
            c.heap_growth_bytes / c.changes,
            b.heap_growth_bytes / b.changes,
            "{:.0f}",
            show_ratio=False,
        ),
        Row(
            "changes measured (missing)",
            c.changes - c.missing,
            b.changes - b.missing,
            "{:.0f}",
            show_ratio=False,
        ),
    ]
    notes = [
        f"Chromium {result.chromium}; {result.rounds} alternating rounds; changes "
        f"{result.gap_ms[0]}-{result.gap_ms[1]} ms apart; missing: cobrowse {c.missing}, "
        f"bare {b.missing}.",
        f"Clock check (watching page minus sending page): cobrowse {c.clock_skew_ms:+.3f} ms, "
        f"bare {b.clock_skew_ms:+.3f} ms. Mirror observer installs: {result.mirror_installs}.",
        f"Largest customer frame (the full snapshot): {c.largest_frame_bytes} B.",
    ]
    return render_table(
        "(a) DOM change on the customer page -> agent's mirror, in Chromium", rows, notes
    )


def relay_table(result: RelayResult, compact: bool = False) -> str:
    blocks = []
    for size in result.sizes:
        c = result.results[("cobrowse", size)]
        b = result.results[("bare", size)]

        def rate(m: Measurement) -> float:
            return median(m.rates)

        def cpu_us(m: Measurement) -> float:
            return m.server_cpu_s / m.messages * 1e6

        def busy(cpu: float, m: Measurement) -> float:
            return 100 * cpu / m.seconds

        p = percentile
        rows = [
            Row("messages/s (median of rounds)", rate(c), rate(b), "{:,.0f}"),
            Row("MB/s of frame payload", rate(c) * size / 1e6, rate(b) * size / 1e6),
            Row(
                f"latency p50, {result.window} in flight (ms)",
                p(c.loaded_ms, 0.5),
                p(b.loaded_ms, 0.5),
                "{:.3f}",
            ),
            Row(
                f"latency p99, {result.window} in flight (ms)",
                p(c.loaded_ms, 0.99),
                p(b.loaded_ms, 0.99),
                "{:.3f}",
            ),
            Row(
                "latency p50, 1 in flight (ms)",
                p(c.unloaded_ms, 0.5),
                p(b.unloaded_ms, 0.5),
                "{:.3f}",
            ),
            Row(
                "latency p99, 1 in flight (ms)",
                p(c.unloaded_ms, 0.99),
                p(b.unloaded_ms, 0.99),
                "{:.3f}",
            ),
            Row("server CPU per message (us)", cpu_us(c), cpu_us(b), "{:.1f}"),
            Row(
                "server CPU busy (%)",
                busy(c.server_cpu_s, c),
                busy(b.server_cpu_s, b),
                "{:.0f}",
                show_ratio=False,
            ),
            Row(
                "load generator CPU busy (%)",
                busy(c.generator_cpu_s, c),
                busy(b.generator_cpu_s, b),
                "{:.0f}",
                show_ratio=False,
            ),
        ]
        if compact:
            keep = ("messages/s", "server CPU per", "latency p50, 1")
            rows = [row for row in rows if row.metric.startswith(keep)]
        spread = (
            f"round rates: cobrowse {', '.join(f'{r:,.0f}' for r in c.rates)}; "
            f"bare {', '.join(f'{r:,.0f}' for r in b.rates)}"
        )
        blocks.append(render_table(f"-- {size} B stream frames --", rows, [spread]))
    counts = ", ".join(f"{result.messages[s]:,} x {s} B" for s in result.sizes)
    header = (
        "(b) Server relay throughput, customer -> agent (servers in subprocesses; "
        f"{result.rounds} alternating rounds; {counts} "
        f"per round; unloaded: {result.unloaded_messages:,} per round)\n"
        f"permessage-deflate: {'offered' if result.deflate else 'not offered'} by the load "
        f"generator; negotiated: cobrowse {result.extensions['cobrowse']}, "
        f"bare {result.extensions['bare']}"
    )
    return header + "\n\n" + "\n\n".join(blocks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["a", "b"], help="run one benchmark only")
    parser.add_argument("--changes", type=int, default=300, help="(a) DOM changes per side")
    parser.add_argument("--rounds", type=int, default=4, help="(b) alternating rounds")
    parser.add_argument(
        "--deflate",
        choices=["on", "off", "both"],
        default="both",
        help="(b) whether the load generator offers permessage-deflate; 'both' (the "
        "default) runs the full benchmark with it and a short pass without it",
    )
    args = parser.parse_args()

    info = machine()
    started = time.monotonic()
    load_before = os.getloadavg()
    print(
        f"cobrowse benchmarks: {info['nproc']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"uvicorn {info['uvicorn']}, starlette {info['starlette']}, "
        f"websockets {info['websockets']}, playwright {info['playwright']}",
        flush=True,
    )
    tables: list[str] = []
    record: dict[str, object] = {"machine": info}
    if args.only in (None, "a"):
        progress("(a) browser latency: cobrowse vs bare page-to-page relay")
        browser = browser_latency.run(changes=args.changes, progress=progress)
        tables.append(browser_table(browser))
        record["browser"] = asdict(browser)
        print("\n" + tables[-1], flush=True)
    if args.only in (None, "b"):
        progress("(b) relay throughput: cobrowse vs bare uvicorn + Starlette relay")
        passes = {"on": [True], "off": [False], "both": [True, False]}[args.deflate]
        relays: dict[str, object] = {}
        for deflate in passes:
            short = args.deflate == "both" and not deflate
            relay = relay_throughput.run(
                rounds=2 if short else args.rounds, deflate=deflate, progress=progress
            )
            tables.append(relay_table(relay, compact=short))
            relays["deflate" if deflate else "no-deflate"] = {
                f"{name}/{size}": asdict(measurement)
                for (name, size), measurement in relay.results.items()
            }
            print("\n" + tables[-1], flush=True)
        record["relay"] = relays
    load_after = os.getloadavg()
    elapsed = time.monotonic() - started
    print(
        f"\nRatios are cobrowse / bare (for latency, CPU and bytes lower is better; for "
        f"throughput higher is better). Load average before {load_before[0]:.2f}, "
        f"after {load_after[0]:.2f}; the run took {elapsed:.0f} s."
    )
    RESULTS.mkdir(exist_ok=True)
    record["load_average"] = [load_before[0], load_after[0]]
    (RESULTS / "latest.json").write_text(json.dumps(record, indent=1, default=str))


if __name__ == "__main__":
    main()
