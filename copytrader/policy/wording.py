"""How the policy loader words a problem: what a node holds, and the hints that say how to
fix a common slip (a key with no space after its colon, a mistyped key)."""

from __future__ import annotations

import re

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from copytrader.core import words
from copytrader.policy import yamltree

#: ``stopValue:3500``: a key and a value with no space after the colon, which YAML reads as
#: one string.
NO_SPACE = re.compile(r"^([A-Za-z_][\w.-]*):(\S.*)$")


def colon_hint(node: Node) -> str:
    """``"; put a space after the colon: 'stopValue: 3500'"`` when ``node`` is a plain string
    that reads like a ``key: value`` written without the space, else ``""``."""
    if not isinstance(node, ScalarNode) or node.style is not None or node.tag != yamltree.STR:
        return ""
    match = NO_SPACE.match(str(node.value).split("\n")[0])
    if match is None:
        return ""
    return f"; put a space after the colon: '{match.group(1)}: {match.group(2)}'"


def unknown_key(key: str, what: str, allowed: tuple[str, ...]) -> str:
    """``unknown key 'folowers' in the policy; did you mean 'followers'? (expected one of
    ...)``, or ``...; expected one of ...`` when no valid key is close."""
    hint = words.did_you_mean(key, allowed)
    if hint:
        return f"unknown key {key!r} in {what}{hint} (expected one of {', '.join(allowed)})"
    return f"unknown key {key!r} in {what}; expected one of {', '.join(allowed)}"


def describe(node: Node) -> str:
    """A short description of what a node holds, for messages."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    try:
        value = yamltree.scalar(node)  # type: ignore[arg-type]
    except yamltree.BadScalar:
        return repr(node.value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"the number {words.show(value)}"
