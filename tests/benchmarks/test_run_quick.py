"""``benchmarks/run.py --quick`` as CI runs it: a real subprocess against the simulator."""

from __future__ import annotations

import pytest

from benchmarks import bound
from tests.benchmarks import quick

#: One worker runs this module's tests, so that the benchmark (the module's fixture) runs once.
pytestmark = pytest.mark.xdist_group("benchmarks-run")


@pytest.fixture(scope="module")
def figures() -> dict[str, float]:
    return quick.figures("run.py", "| followers |")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("n", [200, 500])
def test_quick_run_prints_every_figure(figures: dict[str, float], n: int) -> None:
    for name in (
        "steady_requests_copytrader", "steady_writes_copytrader", "steady_seconds_copytrader",
        "steady_requests_naive", "steady_request_ratio", "steady_rate_seconds_naive",
        "fanout_seconds_copytrader", "fanout_bound_seconds", "fanout_bound_ratio_copytrader",
        "fanout_wasted_requests_copytrader", "fanout_seconds_naive", "fanout_time_ratio",
        "plan_cpu_seconds_steady", "plan_cpu_seconds_fanout", "plan_peak_rss_mb",
        "snapshot_write_seconds", "policy_file_load_seconds",
    ):
        assert f"{name}_n{n}" in figures, name


@pytest.mark.timeout(120)
@pytest.mark.parametrize("n", [200, 500])
def test_copytrader_steady_state_reads_only_the_sweep(figures: dict[str, float], n: int) -> None:
    assert figures[f"steady_writes_copytrader_n{n}"] == 0
    assert figures[f"steady_requests_copytrader_n{n}"] == 1  # one /bots/list page
    assert figures[f"steady_requests_naive_n{n}"] == n + 1  # the master, then every clone
    # The fan-out reached every clone with exactly the needed requests.
    assert figures[f"fanout_converged_copytrader_n{n}"] == 1
    assert figures[f"fanout_wasted_requests_copytrader_n{n}"] == 0


def test_bound_counts_latency_concurrency_and_the_window() -> None:
    # 1 page, then 16 writes 8 at a time, 1 s each: 1 + 2 rounds.
    assert bound.ideal_seconds(1, 16, rate=None, concurrency=8, latency=1.0) == 3.0
    # A window of 10 per 60 s: the 11th request waits for the first to leave the window.
    assert bound.ideal_seconds(1, 10, rate=10, concurrency=100, latency=0.0) == 60.0
    # Requests sent just before the pass count against the window.
    assert bound.ideal_seconds(0, 1, rate=1, concurrency=1, latency=0.0, prior=[-30.0]) == 30.0
