"""CONTRACT: "README.md starts with exactly two set-up commands ...: one runs the demo
(simulator + daemon + example policies on embedded SQLite), one runs the whole test suite.
`.ci/run` runs that same test command." These tests keep the README and CI to that."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setup_commands() -> list[str]:
    """The shell commands of the README's code blocks before its first horizontal rule."""
    head = (ROOT / "README.md").read_text(encoding="utf-8").split("\n---\n", 1)[0]
    blocks = re.findall(r"```(?:sh|console)?\n(.*?)```", head, flags=re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_the_readme_starts_with_exactly_two_setup_commands() -> None:
    demo, tests = _setup_commands()  # exactly two
    assert demo.startswith("python3 -m venv .venv && ") and demo.endswith("/copytrader demo")
    assert tests.startswith("python3 -m venv .venv && ") and " pytest " in f"{tests} "
    assert "'.[dev]'" in tests  # the test tools are the dev extra


def test_ci_runs_the_readmes_test_command_word_for_word() -> None:
    _, tests = _setup_commands()
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert tests in ci
