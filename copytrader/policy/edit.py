"""One follower entry of a policy file's text added, removed, paused or unpaused; every other
line kept byte for byte.

This module is the only importer of ruamel.yaml. Its round-trip loader reads the document
with the line and column of every key, value and list item, which tells where the
``followers`` list and each entry stand; the edit then touches only those lines: a new entry
is inserted after the last one (indented as its neighbours are), a removed entry's lines are
deleted, a pause rewrites the entry's ``paused`` value (or adds the line). A round-trip
*dump* of the whole document is deliberately not used: it re-indents, re-spaces and re-wraps
lines that are not about the follower, and moves the blank lines and comments that follow
the last entry (ruamel attaches them to it), so the untouched lines would not stay as they
were.

The policy loader reads YAML 1.1 (PyYAML), where ``yes`` is a boolean and ``1e-07`` a
string; every scalar written here is checked by reading it back the loader's way
(:func:`copytrader.policy.yamltree.read_scalar`), and the caller checks the whole result
with the loader and the platform before anything is written
(:mod:`copytrader.policy.followers`).

Entry boundaries: an entry runs from its ``-`` line to its last line indented deeper than
the ``-``, with the comment lines at that depth that follow it without a blank line. A
comment above an entry is not taken to be the entry's (it may be a commented-out entry, a
heading, or a note about the entry before) and stays when the entry is removed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from copytrader.core.model import Scalar
from copytrader.policy import yamltree


class EditError(Exception):
    """The edit cannot be made; the message says why (one line)."""


@dataclass(frozen=True)
class Entry:
    """A follower entry to add: each override and factor as the YAML text given for it."""

    user: str
    overrides: Sequence[tuple[str, str]] = field(default_factory=tuple)
    scale: Sequence[tuple[str, str]] = field(default_factory=tuple)
    paused: bool = False


_ODD_BREAKS = re.compile("\r(?!\n)|[\x85\u2028\u2029]")
_LINE = re.compile(r"[^\n]*\n|[^\n]+$")
_DASH = re.compile(r"^( *)-( +|$)")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\'|[^\s#,\]}]+')
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EMPTY_VALUE = re.compile(r"^(?P<key>\s*\S[^:]*:)(?P<value>[ \t]*(?:\[[ \t]*\]|~|null|Null|NULL)?)"
                          r"(?P<rest>[ \t]*(?:#.*)?\r?\n?)$")


class _Doc:
    """The text as lines, and the round-trip tree with positions (0-based lines)."""

    def __init__(self, text: str) -> None:
        if _ODD_BREAKS.search(text):
            raise EditError("the file has line breaks other than \\n and \\r\\n; edit it by hand")
        self.lines = _LINE.findall(text)
        self.eol = "\r\n" if self.lines and self.lines[0].endswith("\r\n") else "\n"
        yaml = YAML(typ="rt")
        yaml.allow_duplicate_keys = True  # the loader reports duplicates with positions
        try:
            self.root = yaml.load(text)
        except YAMLError as exc:
            raise EditError(f"the file is not valid YAML: {_first_line(exc)}") from exc
        if not isinstance(self.root, CommentedMap) or self.root.fa.flow_style():
            raise EditError("the top level is not a block mapping (master: ..., followers: ...)")

    def text(self) -> str:
        return "".join(self.lines)

    def insert(self, at: int, new: list[str]) -> None:
        """``new`` lines before line ``at`` (a last line without its line end gets one)."""
        if at and at == len(self.lines) and not self.lines[-1].endswith("\n"):
            self.lines[-1] += self.eol
        self.lines[at:at] = new

    def followers(self) -> CommentedSeq | None:
        """The followers list (None when absent or empty by ``null``); EditError when it is
        something an edit cannot keep to its lines."""
        if "followers" not in self.root:
            return None
        seq = self.root["followers"]
        if seq is None:
            return None
        if not isinstance(seq, CommentedSeq):
            raise EditError("followers is not a list")
        if seq.fa.flow_style() and len(seq):
            raise EditError(
                "followers is a flow list [...]: write it as a block list "
                "(one '- user: ...' per entry) to edit it with copytrader follower"
            )
        return seq

    def find(self, user: str) -> tuple[CommentedSeq, int]:
        """The followers list and the index of ``user``'s entry; EditError when not listed."""
        seq = self.followers()
        for i, item in enumerate(seq or ()):
            if isinstance(item, CommentedMap) and item.get("user") == user:
                return seq, i  # type: ignore[return-value]
        raise EditError(f"user {user} is not listed in this file")

    def dash(self, seq: CommentedSeq, i: int) -> tuple[int, int]:
        """Line and column of entry ``i``'s ``-``."""
        line, col = seq.lc.item(i)
        m = _DASH.match(self.lines[line][:col])
        if m and self.lines[line][m.end(1) : col].strip() == "-":
            return line, len(m.group(1))
        for j in range(line - 1, -1, -1):  # a '-' alone on a line above its entry
            text = _strip_comment(self.lines[j])
            if not text.strip():
                continue
            if text.strip() == "-":
                return j, len(text) - len(text.lstrip(" "))
            break
        raise EditError(f"cannot find the '-' of follower entry {i + 1}")

    def extent(self, line: int, col: int) -> tuple[int, int]:
        """After the entry (or key) at ``line``: the index after its last content line, and
        after its last line: a comment line indented deeper than ``col`` is its own when no
        blank line parts it from the entry's content (or content of the entry follows)."""
        content = region = line + 1
        gap = False
        for j in range(line + 1, len(self.lines)):
            text = self.lines[j]
            stripped = text.strip()
            if not stripped:
                gap = True
                continue
            if _indent(text) <= col:
                break
            if not stripped.startswith("#"):
                content = region = j + 1
                gap = False
            elif not gap:
                region = j + 1
        return content, region


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _strip_comment(line: str) -> str:
    """The line without a comment that starts it (enough for a '-' alone on a line)."""
    text = line.rstrip("\r\n")
    i = text.find(" #")
    return text if i < 0 else text[:i]


def _read_back(text: str) -> Scalar:
    """``text`` read as the value of a key, the loader's way; Refusal when it is not one."""
    return yamltree.read_scalar(text)


def _same(a: Scalar, b: Scalar) -> bool:
    return a == b and type(a) is type(b)


def scalar_text(value: Scalar, given: str | None = None) -> str:
    """YAML text the loader reads back as exactly ``value``: ``given`` as typed when it does,
    else plain, else double-quoted; EditError when none does."""
    candidates = [given.strip()] if given is not None else []
    if isinstance(value, bool):
        candidates.append("true" if value else "false")
    elif isinstance(value, int):
        candidates.append(str(value))
    elif isinstance(value, float):
        text = repr(value)
        candidates.append(text if "." in text or "e" not in text else text.replace("e", ".0e"))
    elif isinstance(value, str):
        candidates += [value, json.dumps(value, ensure_ascii=False)]
    elif value is None:
        candidates.append("null")
    for text in candidates:
        try:
            if text and _same(_read_back(text), value):
                return text
        except yamltree.Refusal:
            continue
    raise EditError(f"cannot write {value!r} so that the policy loader reads it back")


def _key_text(key: str) -> str:
    if _PLAIN_KEY.fullmatch(key) and _same(_read_back(key), key):
        return key
    return json.dumps(key, ensure_ascii=False)


def _nested_indent(seq: CommentedSeq) -> int:
    """How far a follower's ``overrides:`` mapping indents its keys (2 unless shown)."""
    for item in seq:
        if not isinstance(item, CommentedMap):
            continue
        for key in ("overrides", "scale", "risk"):
            inner = item.get(key)
            if isinstance(inner, CommentedMap) and len(inner) and not inner.fa.flow_style():
                first = next(iter(inner))
                step = inner.lc.key(first)[1] - item.lc.key(key)[1]
                if step > 0:
                    return int(step)
    return 2


def add(text: str, entry: Entry) -> str:
    """``text`` with ``entry`` appended to the followers list."""
    doc = _Doc(text)
    seq = doc.followers()
    if seq is not None and any(
        isinstance(item, CommentedMap) and item.get("user") == entry.user for item in seq
    ):
        raise EditError(f"user {entry.user} is already listed in this file")
    if seq is not None and len(seq):
        last = len(seq) - 1
        line, dash_col = doc.dash(seq, last)
        key_off = max(2, seq.lc.item(last)[1] - dash_col) if seq.lc.item(last)[0] == line else 2
        at = doc.extent(line, dash_col)[1]
        nest = _nested_indent(seq)
    else:
        first = "followers" if "followers" in doc.root else next(iter(doc.root), None)
        key_col = doc.root.lc.key(first)[1] if first is not None else 0
        dash_col, key_off, nest = key_col + 2, 2, 2
        if "followers" not in doc.root:
            doc.insert(len(doc.lines), [" " * key_col + "followers:" + doc.eol])
            at = len(doc.lines)
        else:
            key_line = doc.root.lc.key("followers")[0]
            m = _EMPTY_VALUE.match(doc.lines[key_line])
            if m is None:
                raise EditError("cannot add an entry to this followers value; edit it by hand")
            doc.lines[key_line] = m.group("key") + m.group("rest")
            at = doc.extent(key_line, key_col)[1]
    doc.insert(at, _render(entry, dash_col, key_off, nest, doc.eol))
    return doc.text()


def _render(entry: Entry, dash_col: int, key_off: int, nest: int, eol: str) -> list[str]:
    pad, key_pad = " " * dash_col, " " * (dash_col + key_off)
    lines = [f"{pad}-{' ' * (key_off - 1)}user: {scalar_text(entry.user)}{eol}"]
    for name, pairs in (("overrides", entry.overrides), ("scale", entry.scale)):
        if not pairs:
            continue
        lines.append(f"{key_pad}{name}:{eol}")
        for key, given in pairs:
            try:
                value = yamltree.read_scalar(given)
            except yamltree.Refusal as exc:
                raise EditError(f"{key}={given}: {exc.message}") from exc
            lines.append(f"{key_pad}{' ' * nest}{_key_text(key)}: {scalar_text(value, given)}{eol}")
    if entry.paused:
        lines.append(f"{key_pad}paused: true{eol}")
    return lines


def remove(text: str, user: str) -> str:
    """``text`` without ``user``'s entry (from its ``-`` line to its last line)."""
    doc = _Doc(text)
    seq, i = doc.find(user)
    line, col = doc.dash(seq, i)
    end = doc.extent(line, col)[1]
    del doc.lines[line:end]
    return doc.text()


def set_paused(text: str, user: str, paused: bool) -> str | None:
    """``text`` with ``user``'s entry paused (or not); None when it already is."""
    doc = _Doc(text)
    seq, i = doc.find(user)
    item: CommentedMap = seq[i]
    want = "true" if paused else "false"
    if "paused" in item:
        line, col = item.lc.value("paused")
        m = _TOKEN.match(doc.lines[line], col)
        if m is None:
            raise EditError(f"cannot read the paused value of {user}'s entry; edit it by hand")
        try:  # the loader's reading (YAML 1.1: `yes` is true), not ruamel's
            if _same(yamltree.read_scalar(m.group()), paused):
                return None
        except yamltree.Refusal:
            pass
        doc.lines[line] = doc.lines[line][: m.start()] + want + doc.lines[line][m.end() :]
        return doc.text()
    if not paused:
        return None  # no paused key: not paused
    dash_line, dash_col = doc.dash(seq, i)
    if item.fa.flow_style():
        return _pause_flow(doc, dash_line, user)
    content = doc.extent(dash_line, dash_col)[0]
    key_col = item.lc.key("user")[1]
    doc.insert(content, [f"{' ' * key_col}paused: true{doc.eol}"])
    return doc.text()


def _pause_flow(doc: _Doc, line: int, user: str) -> str:
    """``paused: true`` added to a one-line flow entry (``- {user: ...}``)."""
    text = doc.lines[line]
    close = text.rfind("}", 0, len(_strip_comment(text)))
    if close < 0 or "{" not in text[:close]:
        raise EditError(f"{user}'s entry spans several lines; edit it by hand")
    doc.lines[line] = text[:close].rstrip() + ", paused: true" + text[close:]
    return doc.text()
