"""``benchmarks/botprimex.py --quick`` as CI runs it: a real subprocess against the BotPrimeX
simulator; the figures the README quotes are printed, and the counts hold exactly."""

from __future__ import annotations

import pytest

from tests.benchmarks import quick

#: One worker runs this module's tests, so that the benchmark (the module's fixture) runs once.
pytestmark = pytest.mark.xdist_group("benchmarks-botprimex")


@pytest.fixture(scope="module")
def figures() -> dict[str, float]:
    return quick.figures("botprimex.py", "| accounts |")


@pytest.mark.timeout(120)
def test_steady_state_reads_one_page_per_account(figures: dict[str, float]) -> None:
    for masters in (1, 3):
        tag = f"a10_m{masters}"
        assert figures[f"bpx_steady_requests_copytrader_{tag}"] == 11  # 10 accounts + master
        assert figures[f"bpx_steady_writes_copytrader_{tag}"] == 0
        assert figures[f"bpx_steady_requests_naive_{tag}"] == 1 + 10 * masters


@pytest.mark.timeout(120)
def test_fanout_reaches_every_account_with_the_needed_requests(figures: dict[str, float]) -> None:
    for accounts in (10, 40):
        tag = f"a{accounts}"
        assert figures[f"bpx_fanout_converged_copytrader_{tag}"] == 1
        # every account's page and its one edit, and the master account's page
        assert figures[f"bpx_fanout_requests_copytrader_{tag}"] == 2 * accounts + 1
        for name in (
            "seconds_copytrader",
            "bound_seconds",
            "bound_ratio_copytrader",
            "sum_seconds",
            "sum_ratio",
            "others_done_seconds",
            "slow_done_seconds",
            "cpu_seconds",
        ):
            assert f"bpx_fanout_{name}_{tag}" in figures, name
