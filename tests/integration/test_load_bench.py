"""The load benchmark (bench/load.py) works end to end on a tiny configuration.

Only what it measures is checked, never how fast: every session is held and frames
arrive at the agent side, through the bare relay and through one cobrowse node.
"""

from __future__ import annotations

from bench import load


def test_tiny_load_run_holds_every_session_and_relays_frames() -> None:
    plan = load.LoadPlan(sessions=5, rate=10, seconds=1, warmup_seconds=0.5, workers=1)

    run = load.run(plan, nodes=[1], progress=lambda line: None)

    assert [result.name for result in run.results] == ["bare relay", "cobrowse, 1 node"]
    for result in run.results:
        assert result.failure is None, result.failure
        assert result.setup_failures == []
        assert (result.opened, result.held, result.dropped) == (5, 5, 0)
        assert 0 < result.received <= result.sent
        assert len(result.latencies_ms) == result.received
        assert result.server_rss_held > 0
