"""Policy file bytes to a YAML node tree that keeps every node's line and column.

Only PyYAML's safe machinery is used, and only up to the node tree (``compose``): no
constructor ever builds Python objects from tags, so a ``!!python/object`` tag is just a tag
we refuse. Aliases are refused outright (the simplest defence against alias bombs and never
needed in a policy), as are files over :data:`MAX_BYTES`, nesting deeper than
:data:`MAX_DEPTH` and any tag but the plain scalar, sequence and mapping ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TypeGuard

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from copytrader.core.model import Scalar

#: Largest policy file read: about 270,000 followers of one master (23 bytes a line or so),
#: yet small enough that a runaway file cannot exhaust memory.
MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 32

_TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null"))
# A date-like plain scalar (2024-01-01) resolves to a timestamp; we keep its text.
TIMESTAMP = f"{_TAG}timestamp"
SEQ, MAP = f"{_TAG}seq", f"{_TAG}map"
SCALAR_TAGS = frozenset({STR, INT, FLOAT, BOOL, NULL, TIMESTAMP})


class Refusal(Exception):
    """The file could not be turned into a node tree; 1-based position of the cause."""

    def __init__(self, message: str, line: int = 1, col: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and deep nesting while composing."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line, col = event.start_mark.line + 1, event.start_mark.column + 1
        if isinstance(event, yaml.AliasEvent):
            raise Refusal(
                f"aliases (*{event.anchor}) are not allowed in policy files: write the value out",
                line,
                col,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise Refusal(f"nesting deeper than {MAX_DEPTH} levels", line, col)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def decode(data: bytes) -> str:
    """The file's text. Raises :class:`Refusal` for a file too large or not UTF-8."""
    if len(data) > MAX_BYTES:  # the loader checks the full size first; this guards locate
        raise Refusal(f"file is larger than the limit of {MAX_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise Refusal(
            f"file is not UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded", line, col
        ) from exc


def compose(text: str) -> Node | None:
    """The node tree of a one-document YAML ``text`` (None when empty). Raises Refusal."""
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # the reader checks for unprintable characters right here
        return loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        from copytrader.policy import yamlerrors

        raise Refusal(*yamlerrors.explain(exc, text)) from exc
    except yaml.reader.ReaderError as exc:
        position = exc.position if isinstance(exc.position, int) else 0
        code = exc.character if isinstance(exc.character, int) else 0
        raise Refusal(
            f"character U+{code:04X} is not allowed in a YAML file", *_line_col(text, position)
        ) from exc
    except yaml.YAMLError as exc:  # any other PyYAML error: still a problem, never a crash
        raise Refusal(f"YAML error: {exc}") from exc
    finally:
        if loader is not None:
            loader.dispose()


def position(node: Node) -> tuple[int, int]:
    """1-based line and column where ``node`` starts."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def bad_tags(root: Node) -> Iterator[tuple[Node, str]]:
    """Every node whose tag is not a plain scalar, list or mapping tag, with a message."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, ScalarNode):
            ok = node.tag in SCALAR_TAGS
        elif isinstance(node, SequenceNode):
            ok = node.tag == SEQ
            stack.extend(reversed(node.value))
        elif isinstance(node, MappingNode):
            ok = node.tag == MAP
            stack.extend(v for pair in reversed(node.value) for v in reversed(pair))
        else:  # pragma: no cover - compose makes only these three kinds
            ok = False
        if not ok:
            if node.tag == f"{_TAG}merge":
                yield node, "merge keys (<<) are not allowed in policy files"
            else:
                yield node, f"tag {short_tag(node.tag)} is not allowed in policy files"


_constructor = SafeConstructor()


class BadScalar(ValueError):
    """A scalar whose text does not fit its tag (``!!int abc``)."""


def scalar(node: ScalarNode) -> Scalar:
    """The Python value of a scalar node with one of :data:`SCALAR_TAGS`.

    Raises :class:`BadScalar` when an explicit tag does not fit the text.
    """
    try:
        if node.tag == NULL:
            return None
        if node.tag == BOOL:
            return bool(_constructor.construct_yaml_bool(node))
        if node.tag == INT:
            return int(_constructor.construct_yaml_int(node))
        if node.tag == FLOAT:
            return float(_constructor.construct_yaml_float(node))
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise BadScalar(f"{node.value!r} is not a valid {short_tag(node.tag)}") from exc
    return str(node.value)


def is_number(value: object) -> TypeGuard[int | float]:
    """A finite int or float, not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


#: Mappings whose keys are setting keys: a problem about one points at the key itself.
_SETTING_MAPS = frozenset({"overrides", "scale", "limits"})


def find(root: Node, at: tuple[str | int, ...]) -> tuple[int, int]:
    """The 1-based position of document path ``at`` in the tree under ``root``.

    A setting key (under overrides, scale or limits) and a key holding a list or mapping
    resolve to the key; any other key to its scalar value; a list index to the item, and a
    string in a list to the item of that value. A path
    that does not resolve falls back to the nearest ancestor that does.
    """
    node, key, parent = root, None, None
    for i, part in enumerate(at):
        if isinstance(node, MappingNode) and isinstance(part, str):
            pairs = [(k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == part]
            if not pairs:
                break
            key, node = pairs[-1]  # PyYAML keeps the last of duplicate keys
            parent = at[i - 1] if i else None
        elif (
            isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value)
        ):
            key, node = None, node.value[part]
        elif isinstance(node, SequenceNode) and isinstance(part, str):
            # A string names the list item with that value (``("locked", "symbol")``).
            items = [n for n in node.value if isinstance(n, ScalarNode) and n.value == part]
            if not items:
                break
            key, node = None, items[0]
        else:
            break
    if key is None or (isinstance(node, ScalarNode) and parent not in _SETTING_MAPS):
        return position(node)
    return position(key)


def read_scalar(text: str) -> Scalar:
    """``text`` read as one YAML scalar, exactly as a value in a policy file is read (``3600``
    a number, ``Price`` a string, ``true`` a boolean, ``"3600"`` a string). Raises
    :class:`Refusal` when it is not a single scalar (a list, a mapping, a tag, an alias,
    more than one line)."""
    if "\n" in text or "\r" in text:
        raise Refusal("a value must fit on one line")
    text = text.strip()
    node = compose(text)
    if node is None:
        return None
    if not isinstance(node, ScalarNode) or node.tag not in SCALAR_TAGS:
        raise Refusal(f"{text!r} is not a single YAML value")
    if node.end_mark.index != len(text):  # a comment after it: "abc #1" would be "abc"
        raise Refusal(f"{text!r} is not a single YAML value (quote it)")
    try:
        return scalar(node)
    except BadScalar as exc:
        raise Refusal(str(exc)) from exc
