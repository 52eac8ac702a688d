"""Every line of the README's "Guarantees" names a test that exists.

A guarantee whose test was renamed or deleted is a promise nobody checks any more; this test
reads each table row of the section and resolves what its last column names: a test file
(``tests/...`` or, without a folder, ``tests/reliability/``), a test in it (``file::name``,
``::name`` for another test of the file named before it in the cell), a folder of tests, or,
in a "same (...)" cell, a checker the previous row's test uses.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"

_TICKED = re.compile(r"`([^`]+)`")
_FILE = re.compile(r"^(?P<path>[\w./-]+\.py)(?:::(?P<name>\w+))?$")
_SAME_FILE = re.compile(r"^::(?P<name>\w+)$")
_WORD = re.compile(r"^\w+$")


def _section_rows() -> list[tuple[int, str]]:
    """(line number, last cell) of every table row under ``## Guarantees``."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("## Guarantees")
    rows = []
    for number, line in enumerate(lines[start + 1:], start + 2):
        if line.startswith("## "):
            break
        if not line.startswith("|") or set(line) <= set("|- ") or line.startswith("| guarantee"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows.append((number, cells[-1]))
    return rows


def _test_file(path: str) -> Path:
    return ROOT / path if path.startswith("tests/") else TESTS / "reliability" / path


def _defines(path: Path, name: str) -> bool:
    pattern = re.compile(
        rf"^(?:\s*(?:async\s+def|def|class)\s+{re.escape(name)}\b|{re.escape(name)}\s*=)", re.M)
    return bool(pattern.search(path.read_text(encoding="utf-8")))


def _anywhere_in_tests(name: str) -> bool:
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    return any(pattern.search(p.read_text(encoding="utf-8"))
               for p in TESTS.rglob("*.py") if p != Path(__file__).resolve())


def _problems(cell: str) -> list[str]:
    found: list[str] = []
    current: Path | None = None
    refs = _TICKED.findall(cell)
    if not refs and not cell.startswith("same"):
        return [f"names no test: {cell!r}"]
    for ref in refs:
        if m := _FILE.match(ref):
            current = _test_file(m["path"])
            if not current.is_file():
                found.append(f"no file {current.relative_to(ROOT)}")
            elif m["name"] and not _defines(current, m["name"]):
                found.append(f"no test {m['name']} in {current.relative_to(ROOT)}")
        elif m := _SAME_FILE.match(ref):
            if current is None or not current.is_file() or not _defines(current, m["name"]):
                found.append(f"no test {m['name']} in the file named before it")
        elif ref.endswith("/"):
            if not list((ROOT / ref).glob("test_*.py")):
                found.append(f"no tests in folder {ref}")
        elif _WORD.match(ref):
            if not _anywhere_in_tests(ref):
                found.append(f"no {ref} anywhere under tests/")
        elif "*" in ref:
            if not list(TESTS.rglob(ref)):
                found.append(f"no file matches {ref}")
        else:
            found.append(f"cannot read {ref!r} as a test, a file or a folder")
    return found


def test_the_guarantees_section_has_rows() -> None:
    assert len(_section_rows()) > 50


def test_every_guarantee_names_a_test_that_exists() -> None:
    bad = [f"README.md:{n}: {p}" for n, cell in _section_rows() for p in _problems(cell)]
    assert not bad, "\n".join(bad)


def test_a_missing_test_is_caught() -> None:
    assert _problems("`test_sweep.py::test_no_such_test`") == [
        "no test test_no_such_test in tests/reliability/test_sweep.py"]
    assert _problems("`tests/cli/test_nothing.py`") == ["no file tests/cli/test_nothing.py"]
    assert _problems("`tests/cli/test_help.py`, `::test_nope`") == [
        "no test test_nope in the file named before it"]
    assert _problems("same (`no_checker_called_this`)") == [
        "no no_checker_called_this anywhere under tests/"]
    assert _problems("a person looks at it") == ["names no test: 'a person looks at it'"]
