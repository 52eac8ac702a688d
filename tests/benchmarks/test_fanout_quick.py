"""``benchmarks/fanout.py --quick`` as CI runs it: a real subprocess against the simulator."""

from __future__ import annotations

import pytest

from tests.benchmarks import quick

#: One worker runs this module's tests, so that the benchmark (the module's fixture) runs once.
pytestmark = pytest.mark.xdist_group("benchmarks-fanout")


@pytest.fixture(scope="module")
def figures() -> dict[str, float]:
    return quick.figures("fanout.py", "| write phase s |")


@pytest.mark.timeout(120)
def test_a_master_edit_costs_only_the_edits_copytrader_carries(figures: dict[str, float]) -> None:
    # 100 followers, every 5th with an editable override: 20 edits plus the one sweep page,
    # the other 80 carried by the platform; every follower ends with the new value.
    assert figures["carried_followers_platform_n100"] == 80
    assert figures["carried_edits_n100"] == 20
    assert figures["carried_requests_n100"] == figures["carried_requests_goal_n100"] == 21
    assert figures["carried_converged_n100"] == 1
    assert figures["carried_requests_all_edited_n100"] == 101
    assert figures["carried_requests_naive_n100"] == 201


@pytest.mark.timeout(120)
def test_the_open_fan_out_prints_its_figures(figures: dict[str, float]) -> None:
    for name in (
        "open_write_phase_seconds", "open_write_phase_bound_seconds", "open_write_phase_ratio",
        "open_cpu_ms_per_write", "open_cpu_ms_per_write_logged", "open_peak_rss_mb",
        "open_seconds_naive",
    ):
        assert f"{name}_n100" in figures, name
    assert figures["open_writes_n100"] == 100
    assert figures["open_converged_n100"] == 1
    assert figures["open_write_phase_bound_seconds_n100"] == pytest.approx(13 * 0.02)
