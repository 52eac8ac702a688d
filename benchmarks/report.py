"""Printing the figures: one ``name: value unit`` line each, then the summary tables."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field


@dataclass
class Report:
    """Figures in the order measured; each is printed at once (a long run shows progress)."""

    figures: dict[str, tuple[float, str]] = field(default_factory=dict)

    def add(self, name: str, value: float, unit: str) -> None:
        """Record and print ``name: value unit``."""
        self.figures[name] = (value, unit)
        text = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{name}: {text} {unit}", flush=True)

    def get(self, name: str) -> float | None:
        found = self.figures.get(name)
        return None if found is None else found[0]


def _cell(value: float | None, fmt: str = "{:.2f}") -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else fmt.format(value)


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table (readable as plain text too)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)) + " |"
    out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


def summary(r: Report, steady: list[int], fanout: list[int], pure: list[int],
            rate: int, fan_rate: int) -> str:
    """The summary tables of a run."""
    g = r.get
    parts = [f"## Steady state (nothing changed; copytrader under {rate} req/min)", table(
        ["followers", "copytrader req", "writes", "pass s", "naive req", "naive s",
         "naive/ct req", f"ct s @{rate}/min", f"naive s @{rate}/min"],
        [[str(n), _cell(g(f"steady_requests_copytrader_n{n}")),
          _cell(g(f"steady_writes_copytrader_n{n}")),
          _cell(g(f"steady_seconds_copytrader_n{n}")),
          _cell(g(f"steady_requests_naive_n{n}")), _cell(g(f"steady_seconds_naive_n{n}")),
          "**" + _cell(g(f"steady_request_ratio_n{n}"), "{:.0f}x") + "**",
          _cell(g(f"steady_rate_seconds_copytrader_n{n}"), "{:.1f}"),
          _cell(g(f"steady_rate_seconds_naive_n{n}"), "{:.0f}")] for n in steady])]
    parts += [f"## Fan-out of one master edit (under {fan_rate} req/min)", table(
        ["followers", "ct s", "bound s", "ct/bound", "ct wasted", "naive s", "naive/bound",
         "naive wasted", "naive/ct time"],
        [[str(n), _cell(g(f"fanout_seconds_copytrader_n{n}")),
          _cell(g(f"fanout_bound_seconds_n{n}")),
          "**" + _cell(g(f"fanout_bound_ratio_copytrader_n{n}")) + "**",
          _cell(g(f"fanout_wasted_requests_copytrader_n{n}")),
          _cell(g(f"fanout_seconds_naive_n{n}")), _cell(g(f"fanout_bound_ratio_naive_n{n}")),
          _cell(g(f"fanout_wasted_requests_naive_n{n}")),
          "**" + _cell(g(f"fanout_time_ratio_n{n}")) + "**"] for n in fanout])]
    parts += ["## Pure part of a pass (fresh process) and storage", table(
        ["followers", "plan CPU s (steady)", "plan CPU s (fan-out)", "peak RSS MB",
         "inputs RSS MB", "snapshots write s", "policy file load s"],
        [[str(n), _cell(g(f"plan_cpu_seconds_steady_n{n}"), "{:.3f}"),
          _cell(g(f"plan_cpu_seconds_fanout_n{n}"), "{:.3f}"),
          _cell(g(f"plan_peak_rss_mb_n{n}"), "{:.0f}"),
          _cell(g(f"plan_input_rss_mb_n{n}"), "{:.0f}"),
          _cell(g(f"snapshot_write_seconds_n{n}"), "{:.3f}"),
          _cell(g(f"policy_file_load_seconds_n{n}"), "{:.2f}")] for n in pure])]
    return "\n\n".join(parts)


def note(message: str) -> None:
    """Progress for the reader, on stderr (stdout carries the figures)."""
    print(message, file=sys.stderr, flush=True)
