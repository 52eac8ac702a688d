"""``benchmarks/cli_startup.py --quick`` as CI runs it: it builds its database, runs each
command as a fresh process and prints a median per command and its ratio to ``python -c
pass``. The figures themselves are in the README, measured on a year of history; here only
that the benchmark runs and reports every command (no timing is asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(
    r"^(python -c pass|copytrader .+?)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)x$"
)


def test_the_startup_benchmark_reports_every_command() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "cli_startup.py"), "--quick"],
        capture_output=True, text=True, timeout=300, cwd=ROOT, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {m.group(1).strip(): m for line in done.stdout.splitlines() if (m := ROW.match(line))}
    assert set(rows) == {
        "python -c pass",
        "copytrader --version",
        "copytrader --help",
        "copytrader status",
        "copytrader audit --limit 20",
        "copytrader history --master M --since 7d",
    }, done.stdout
    assert float(rows["python -c pass"].group(5)) == 1.0
    assert "status and audit --limit 20: slowest median" in done.stdout
