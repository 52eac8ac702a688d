"""locate: the core's problems (document paths only) get the line and column of their node."""

from __future__ import annotations

from pathlib import Path

import pytest

from copytrader.core.policy import DocPath, Problem
from copytrader.policy import loader
from tests.policy.conftest import Write

DOC = """\
master: 6dafad4e364449c9906296aab8eff2f7
defaults:
  overrides: {stopValue: 3500, symbol: X}
  scale:
    investmentAmount: 2
limits:
  investmentAmount: {min: 0, max: 10}
locked: [symbol, nope]
followers:
  - user: u1
  - user: u2
    overrides:
      gridMode: Sideways
"""

CASES: list[tuple[DocPath, tuple[int, int]]] = [
    ((), (1, 1)),
    (("master",), (1, 9)),  # a scalar value: the value
    (("defaults",), (2, 1)),  # a mapping: its key
    (("defaults", "overrides", "symbol"), (3, 32)),  # a setting key: the key
    (("defaults", "scale", "investmentAmount"), (5, 5)),
    (("limits", "investmentAmount"), (7, 3)),
    (("limits", "investmentAmount", "min"), (7, 27)),  # a bound: its value
    (("locked",), (8, 1)),
    (("locked", 1), (8, 18)),
    (("followers", 1), (11, 5)),
    (("followers", 1, "user"), (11, 11)),
    (("followers", 1, "overrides", "gridMode"), (13, 7)),
    # Paths that do not resolve fall back to the nearest ancestor that does.
    (("followers", 7, "user"), (9, 1)),
    (("followers", 0, "overrides", "x"), (10, 5)),
    (("defaults", "overrides", "missing"), (3, 3)),
    (("nowhere", "at", "all"), (1, 1)),
    (("master", "deeper"), (1, 9)),
]


@pytest.mark.parametrize(("at", "where"), CASES, ids=[repr(c[0]) for c in CASES])
def test_locate_finds_the_node(write: Write, at: DocPath, where: tuple[int, int]) -> None:
    path = write("p.yaml", DOC)
    [located] = loader.locate([Problem(str(path), "msg", at)], path)
    assert (located.line, located.col) == where
    assert (located.file, located.message, located.at) == (str(path), "msg", at)


def test_locate_keeps_positions_already_known(write: Write) -> None:
    path = write("p.yaml", DOC)
    known = Problem(str(path), "msg", ("master",), 4, 2)
    assert loader.locate([known], path) == [known]


def test_locate_on_a_vanished_file_leaves_positions_unknown(tmp_path: Path) -> None:
    gone = tmp_path / "gone.yaml"
    problem = Problem(str(gone), "msg", ("master",))
    assert loader.locate([problem], gone) == [problem]


def test_duplicate_keys_resolve_to_the_one_yaml_keeps(write: Write) -> None:
    path = write("p.yaml", "master: a\nlocked: [x]\nlocked: [y]\n")
    [located] = loader.locate([Problem(str(path), "m", ("locked", 0))], path)
    assert (located.line, located.col) == (3, 10)
