"""PyYAML's syntax errors in plain words, with the likely cause and where to look.

PyYAML says what its parser expected (``expected <block end>, but found '<block mapping
start>'``); a person wants to know what to change (a line indented one space too far, a tab,
a quote never closed). :func:`explain` turns one error and the file's text into such a
message and the 1-based line and column it is about; an error it does not recognise keeps
PyYAML's own words.
"""

from __future__ import annotations

import re

import yaml

PREFIX = "YAML syntax error: "
_KEY_LINE = re.compile(r"^(\s*)((?:-\s+)*)([^\s#][^:#]*?):(\s|$)")


#: The line breaks PyYAML counts lines by (its marks' line numbers follow them).
_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _lines(text: str) -> list[str]:
    return _BREAKS.split(text)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _previous(lines: list[str], index: int) -> tuple[int, str] | None:
    """The nearest line before ``index`` (0-based) that is neither blank nor a comment."""
    for i in range(min(index, len(lines)) - 1, -1, -1):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith("#"):
            return i, lines[i]
    return None


def _spaces(n: int) -> str:
    return f"{n} space" if n == 1 else f"{n} spaces"


def _key_column(line: str) -> int:
    """Where the key of a ``key: value`` or ``- key: value`` line starts (0-based)."""
    match = _KEY_LINE.match(line)
    if match is None:
        return _indent(line)
    return len(match.group(1)) + len(match.group(2))


def _bad_indent(lines: list[str], row: int) -> str:
    line = lines[row] if row < len(lines) else ""
    here = _indent(line)
    before = _previous(lines, row)
    if before is None:
        return f"bad indentation: this line is indented {_spaces(here)}"
    number, above = before
    key_at, dash_at = _key_column(above), _indent(above)
    where = f"the key on line {number + 1} starts at {_spaces(key_at)}"
    if dash_at != key_at:
        where += f" (its '- ' at {dash_at})"
    return (
        f"bad indentation: this line is indented {_spaces(here)}, but {where}; line it up "
        "exactly with the keys it belongs with (YAML nests by indentation, spaces only)"
    )


def _mapping_values(lines: list[str], row: int, col: int) -> tuple[str, int, int]:
    """``mapping values are not allowed here``: a ``: `` where a value was already given.
    The message and the 0-based line and column it is about."""
    line = lines[row] if row < len(lines) else ""
    head = line[:col]
    if re.search(r":\s", head.split("#")[0]) or head.rstrip().endswith(":"):
        return (
            "a second ': ' on one line: a value that contains ': ' must be quoted "
            "(user: \"a: b\")",
            row,
            col,
        )
    before = _previous(lines, row)
    key_at = _key_column(line)
    if before is not None:
        number, above = before
        if ":" not in above.split("#")[0] and not above.strip().startswith("-"):
            return (
                f"line {number + 1} has no ':' after its key, so this line reads as part of "
                f"its value: write '{above.strip()}:'",
                number,
                _indent(above),
            )
        if _indent(line) > _key_column(above):
            return (
                f"this key is indented deeper than the key on line {number + 1}, which "
                "already has a value: line it up with its sibling keys (or, to nest it, end "
                f"line {number + 1} with ':' and no value)",
                row,
                key_at,
            )
    return (
        "a ': ' where no key can start: check the indentation, and quote a value with ': '",
        row,
        col,
    )


Where = tuple[int, int] | None  # 0-based line and column


def _at(mark: yaml.Mark | None) -> Where:
    return None if mark is None else (mark.line, mark.column)


def _plain(exc: yaml.MarkedYAMLError, lines: list[str]) -> tuple[str, Where] | None:
    """The plain message and where it is (0-based), or None when the error is not one of
    the recognised kinds."""
    context, problem = exc.context or "", exc.problem or ""
    pm, cm = _at(exc.problem_mark), _at(exc.context_mark)
    found = re.search(r"found character '(.+)' that cannot start any token", problem)
    if found:
        char = found.group(1)
        if char == "\\t":
            return "a tab character: YAML indents with spaces only; replace it with spaces", pm
        return f"{char!r} cannot start a value: put the value in quotes ('{char}...')", pm
    if "mapping values are not allowed here" in problem and pm is not None:
        message, row, col = _mapping_values(lines, *pm)
        return message, (row, col)
    if "expected <block end>" in problem and pm is not None:
        if "'<scalar>'" in problem and re.search(r"['\"]\S", lines[pm[0]][: pm[1] + 1]):
            return "text right after a closing quote: quote the whole value", pm
        return _bad_indent(lines, pm[0]), pm
    if "could not find expected ':'" in problem:
        return "a line with no ':': each line of a mapping is 'key: value'", cm or pm
    if "while scanning a quoted scalar" in context:
        return "a quote opened here is never closed", cm or pm
    flow = re.search(r"while parsing a flow (sequence|mapping)", context)
    if flow:
        opener, closer = ("[", "]") if flow.group(1) == "sequence" else ("{", "}")
        if "<stream end>" in problem:
            return f"a '{opener}' opened here is never closed with '{closer}'", cm or pm
        return f"a '{opener}' opened on this line needs ',' between items and '{closer}'", cm or pm
    if "expected the node content, but found '<stream end>'" in problem:
        return "the file ends inside a '[' or '{' that is never closed", pm
    if "expected the node content, but found ','" in problem:
        return "an empty item between two commas", pm
    if "expected a single document" in context:
        return "a second document ('---'): a policy file holds exactly one", pm
    return None


def explain(exc: yaml.MarkedYAMLError, text: str) -> tuple[str, int, int]:
    """The message (``YAML syntax error: ...``) and 1-based line and column of ``exc``."""
    lines = _lines(text)
    plain = _plain(exc, lines)
    if plain is not None:
        message, where = plain
    else:
        where = _at(exc.problem_mark or exc.context_mark)
        message = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:  # PyYAML reads context, then problem
            message = f"{exc.context}: {exc.problem}"
    line, col = (where[0] + 1, where[1] + 1) if where is not None else (1, 1)
    return PREFIX + message, line, col
