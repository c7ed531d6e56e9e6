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

from bench import browser_latency, load, relay_throughput
from bench.browser_latency import BrowserResult
from bench.load import ConfigurationResult, LoadRun
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


def _load_rows(c: ConfigurationResult, b: ConfigurationResult, sessions: int) -> list[Row]:
    def per_second(count: int, result: ConfigurationResult) -> float:
        return count / result.seconds if result.seconds else math.nan

    def kib_per_session(grown: int, result: ConfigurationResult) -> float:
        return grown / 1024 / result.opened if result.opened else math.nan

    def busy(result: ConfigurationResult, cpu: float) -> float:
        return 100 * cpu / result.seconds if result.seconds else math.nan

    p = percentile
    return [
        Row(
            f"sessions open after ramp-up (of {sessions:,})",
            c.opened,
            b.opened,
            "{:,.0f}",
            show_ratio=False,
        ),
        Row("sessions held to the end", c.held, b.held, "{:,.0f}", show_ratio=False),
        Row("sessions dropped", c.dropped, b.dropped, "{:,.0f}", show_ratio=False),
        Row("messages/s sent", per_second(c.sent, c), per_second(b.sent, b), "{:,.0f}"),
        Row("messages/s received", per_second(c.received, c), per_second(b.received, b), "{:,.0f}"),
        Row("frames lost", c.sent - c.received, b.sent - b.received, "{:,.0f}", show_ratio=False),
        Row("latency p50 (ms)", p(c.latencies_ms, 0.5), p(b.latencies_ms, 0.5)),
        Row("latency p99 (ms)", p(c.latencies_ms, 0.99), p(b.latencies_ms, 0.99)),
        Row("latency max (ms)", p(c.latencies_ms, 1), p(b.latencies_ms, 1)),
        Row(
            "server RSS with 0 sessions (MiB)",
            c.server_rss_idle / 2**20,
            b.server_rss_idle / 2**20,
            "{:.1f}",
        ),
        Row(
            "server memory per session, held (KiB)",
            kib_per_session(c.server_rss_held - c.server_rss_idle, c),
            kib_per_session(b.server_rss_held - b.server_rss_idle, b),
            "{:.0f}",
        ),
        Row(
            "server memory per session, under load (KiB)",
            kib_per_session(c.server_rss_loaded - c.server_rss_idle, c),
            kib_per_session(b.server_rss_loaded - b.server_rss_idle, b),
            "{:.0f}",
        ),
        Row(
            "server CPU busy (% of one core)",
            busy(c, c.server_cpu_s),
            busy(b, b.server_cpu_s),
            "{:.0f}",
        ),
        Row(
            "server CPU per message (us)",
            c.server_cpu_s / c.received * 1e6 if c.received else math.nan,
            b.server_cpu_s / b.received * 1e6 if b.received else math.nan,
            "{:.1f}",
        ),
        Row(
            "server waiting for a CPU (% of the window)",
            busy(c, c.server_run_queue_s),
            busy(b, b.server_run_queue_s),
            "{:.1f}",
            show_ratio=False,
        ),
        Row(
            "load generator CPU busy (% of one core)",
            busy(c, c.generator_cpu_s),
            busy(b, b.generator_cpu_s),
            "{:.0f}",
            show_ratio=False,
        ),
        Row(
            "load generator waiting for a CPU (%)",
            busy(c, c.generator_run_queue_s),
            busy(b, b.generator_run_queue_s),
            "{:.1f}",
            show_ratio=False,
        ),
        Row(
            "load generator send lag p99 (ms)",
            p(c.send_lag_ms, 0.99),
            p(b.send_lag_ms, 0.99),
            show_ratio=False,
        ),
        Row(
            "ramp-up: all sessions open (s)",
            c.ramp_seconds,
            b.ramp_seconds,
            "{:.1f}",
            show_ratio=False,
        ),
    ]


def load_table(run: LoadRun, target_p99_ms: float = 50.0) -> str:
    plan = run.plan
    bare, *configurations = run.results
    header = (
        f"(c) Load: {plan.sessions:,} sessions, each customer sending {plan.rate:g} frames/s of "
        f"{plan.frame_bytes} B to its agent ({plan.sessions * plan.rate:,.0f} msg/s in all); "
        f"servers and {plan.workers} load generator processes on this machine; "
        f"{plan.warmup_seconds:g} s warm-up, {plan.seconds:g} s measured\n"
        f"permessage-deflate: {'offered' if plan.deflate else 'not offered'} by the clients; "
        "negotiated: "
        + ", ".join(f"{result.name} {result.extensions or 'n/a'}" for result in run.results)
    )
    blocks = []
    for result in configurations:
        if result.failure is not None:
            blocks.append(f"-- {result.name} --\n\nnot measured: {result.failure}")
            continue
        p99 = percentile(result.latencies_ms, 0.99)
        complete = result.held == plan.sessions and result.received == result.sent
        met = complete and p99 < target_p99_ms
        notes = [
            f"target (all {plan.sessions:,} sessions held, nothing lost, p99 < "
            f"{target_p99_ms:g} ms): {'met' if met else 'missed'}",
            *(f"set-up failure: {failure}" for failure in result.setup_failures),
            *(f"dropped {count} x: {reason}" for reason, count in result.drop_reasons.items()),
        ]
        notes.append(
            "1-minute load average over the window: "
            f"{result.name} {result.load_average[0]:.2f} -> {result.load_average[1]:.2f}, "
            f"bare relay {bare.load_average[0]:.2f} -> {bare.load_average[1]:.2f}"
        )
        if "Redis" in result.name:
            notes.append("server figures are both nodes and their Redis together")
        label = result.name.removeprefix("cobrowse, ")
        blocks.append(
            render_table(
                f"-- {result.name} --", _load_rows(result, bare, plan.sessions), notes, label
            )
        )
    return header + "\n\n" + "\n\n".join(blocks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["a", "b", "load"], help="run one benchmark only")
    parser.add_argument("--changes", type=int, default=300, help="(a) DOM changes per side")
    parser.add_argument("--rounds", type=int, default=4, help="(b) alternating rounds")
    parser.add_argument(
        "--deflate",
        choices=["on", "off", "both"],
        default="both",
        help="(b, load) whether the load generator offers permessage-deflate; 'both' (the "
        "default) runs (b) with it and a short pass without it, and load once each way",
    )
    parser.add_argument("--sessions", type=int, default=1000, help="(load) live sessions")
    parser.add_argument(
        "--rate", type=float, default=10.0, help="(load) frames per second per customer"
    )
    parser.add_argument("--seconds", type=float, default=25.0, help="(load) measured window")
    parser.add_argument(
        "--nodes",
        type=int,
        nargs="+",
        choices=[1, 2],
        default=[1, 2],
        help="(load) cobrowse with 1 node, 2 nodes + Redis, or both (the default)",
    )
    parser.add_argument("--workers", type=int, default=2, help="(load) load generator processes")
    parser.add_argument(
        "--redis-url",
        help="(load) Redis for the two nodes (default: a throwaway redis-server on a free port)",
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
    passes = {"on": [True], "off": [False], "both": [True, False]}[args.deflate]
    if args.only in (None, "a"):
        progress("(a) browser latency: cobrowse vs bare page-to-page relay")
        browser = browser_latency.run(changes=args.changes, progress=progress)
        tables.append(browser_table(browser))
        record["browser"] = asdict(browser)
        print("\n" + tables[-1], flush=True)
    if args.only in (None, "b"):
        progress("(b) relay throughput: cobrowse vs bare uvicorn + Starlette relay")
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
    if args.only in (None, "load"):
        progress("(c) load: many sessions at a steady rate, cobrowse vs bare relay")
        loads: dict[str, object] = {}
        for deflate in passes:
            plan = load.LoadPlan(
                sessions=args.sessions,
                rate=args.rate,
                seconds=args.seconds,
                workers=args.workers,
                deflate=deflate,
            )
            run = load.run(plan, nodes=args.nodes, redis_url=args.redis_url, progress=progress)
            tables.append(load_table(run))
            loads["deflate" if deflate else "no-deflate"] = {
                "plan": asdict(plan),
                "results": [result.summary() for result in run.results],
            }
            print("\n" + tables[-1], flush=True)
        record["load"] = loads
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
