"""Run a benchmark script with ``--quick`` as CI does (a real subprocess) and read the
figures it prints, one ``name: value unit`` line each."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIGURE = re.compile(r"^([a-z_0-9]+): (-?[0-9.]+) (\S+)$")


def figures(script: str, table_header: str) -> dict[str, float]:
    """The figures of ``benchmarks/<script> --quick``, which must exit 0 and print its summary
    tables (one of them headed by ``table_header``, e.g. ``"| accounts |"``)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--quick"],
        capture_output=True, text=True, timeout=110, cwd=ROOT, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert table_header in done.stdout  # the summary tables
    return {
        m.group(1): float(m.group(2)) for m in map(FIGURE.match, done.stdout.splitlines()) if m
    }
