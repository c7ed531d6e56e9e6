"""Failed joins per agent are bounded within a sliding window; successes never count."""

from __future__ import annotations

import pytest

from cobrowse.core.throttle import JoinThrottle

WINDOW = 60.0


def fail(throttle: JoinThrottle, agent: str, times: int, now: float) -> None:
    for _ in range(times):
        throttle.failed(agent, now)


def test_agent_with_no_failures_is_allowed() -> None:
    assert JoinThrottle(limit=3).allows("alice", now=0.0)


@pytest.mark.parametrize("limit", [1, 3, 10])
def test_agent_is_allowed_until_limit_failures(limit: int) -> None:
    throttle = JoinThrottle(limit=limit, window=WINDOW)
    for attempt in range(limit):
        assert throttle.allows("alice", now=float(attempt)), f"blocked after {attempt} failures"
        throttle.failed("alice", now=float(attempt))
    assert not throttle.allows("alice", now=float(limit))


def test_blocked_agent_stays_blocked_within_the_window() -> None:
    throttle = JoinThrottle(limit=2, window=WINDOW)
    fail(throttle, "alice", 2, now=0.0)
    assert not throttle.allows("alice", now=1.0)
    assert not throttle.allows("alice", now=WINDOW - 0.001)


def test_failures_older_than_the_window_stop_counting() -> None:
    throttle = JoinThrottle(limit=2, window=WINDOW)
    fail(throttle, "alice", 2, now=0.0)
    assert not throttle.allows("alice", now=30.0)
    assert throttle.allows("alice", now=WINDOW + 0.001)


def test_failure_exactly_one_window_old_no_longer_counts() -> None:
    throttle = JoinThrottle(limit=1, window=WINDOW)
    throttle.failed("alice", now=10.0)
    assert not throttle.allows("alice", now=10.0 + WINDOW - 0.5)
    assert throttle.allows("alice", now=10.0 + WINDOW)


def test_window_slides_so_only_recent_failures_count() -> None:
    throttle = JoinThrottle(limit=3, window=WINDOW)
    throttle.failed("alice", now=0.0)
    throttle.failed("alice", now=20.0)
    throttle.failed("alice", now=40.0)
    assert not throttle.allows("alice", now=50.0)
    # At 61 the failure at 0 has aged out; two remain.
    assert throttle.allows("alice", now=61.0)
    throttle.failed("alice", now=61.0)
    assert not throttle.allows("alice", now=62.0)
    # At 81 the failure at 20 has aged out too.
    assert throttle.allows("alice", now=81.0)


def test_custom_window_is_respected() -> None:
    throttle = JoinThrottle(limit=1, window=5.0)
    throttle.failed("alice", now=0.0)
    assert not throttle.allows("alice", now=4.0)
    assert throttle.allows("alice", now=5.5)


def test_default_window_is_one_minute() -> None:
    throttle = JoinThrottle(limit=1)
    throttle.failed("alice", now=0.0)
    assert not throttle.allows("alice", now=59.0)
    assert throttle.allows("alice", now=60.5)


def test_agents_are_throttled_independently() -> None:
    throttle = JoinThrottle(limit=2, window=WINDOW)
    fail(throttle, "alice", 2, now=0.0)
    assert not throttle.allows("alice", now=1.0)
    assert throttle.allows("bob", now=1.0)
    throttle.failed("bob", now=1.0)
    assert throttle.allows("bob", now=2.0)
    assert not throttle.allows("alice", now=2.0)


def test_successes_never_count() -> None:
    throttle = JoinThrottle(limit=1, window=WINDOW)
    for second in range(100):
        assert throttle.allows("alice", now=float(second) / 10)


def test_checking_does_not_use_up_attempts() -> None:
    throttle = JoinThrottle(limit=2, window=WINDOW)
    throttle.failed("alice", now=0.0)
    for _ in range(10):
        assert throttle.allows("alice", now=1.0)
    throttle.failed("alice", now=2.0)
    assert not throttle.allows("alice", now=3.0)


def test_agent_is_allowed_again_after_waiting_out_a_block() -> None:
    throttle = JoinThrottle(limit=2, window=WINDOW)
    fail(throttle, "alice", 2, now=0.0)
    assert not throttle.allows("alice", now=10.0)
    assert throttle.allows("alice", now=100.0)
    throttle.failed("alice", now=100.0)
    assert throttle.allows("alice", now=101.0)
    throttle.failed("alice", now=101.0)
    assert not throttle.allows("alice", now=102.0)
