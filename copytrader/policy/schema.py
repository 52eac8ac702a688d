"""A policy document's node tree to a :class:`~copytrader.core.policy.Policy`, structurally checked.

Everything that needs no platform is checked here and every problem is reported, each at the
offending key (unknown, duplicate, misplaced keys) or value (wrong type, bad enum value):
the layout of the document, types, enum values, duplicate keys and followers, a zero or
negative ``investmentAmount``, ``min`` above ``max``, a key both overridden and scaled in one
layer. What needs the platform (setting keys of the bot type, option values, locked keys,
follower users) is :func:`copytrader.core.policy_checks.validate`'s.
"""

from __future__ import annotations

import enum
from types import MappingProxyType
from typing import TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from copytrader.core import policy as core
from copytrader.core import policy_checks, words
from copytrader.core.model import Scalar
from copytrader.core.policy import DocPath, FollowerPolicy, Layer, Limit, Policy, Problem
from copytrader.policy import yamltree
from copytrader.policy.wording import NO_SPACE, colon_hint, describe, unknown_key
from copytrader.policy.yamltree import position

TOP_KEYS = (
    "master",
    "defaults",
    "limits",
    "locked",
    "followers",
    "on_follower_removed",
    "on_master_stopped",
    "on_immutable_change",
    "propagation",
    "on_duplicate",
    "on_existing",
)
DEFAULTS_KEYS = ("overrides", "scale", "risk")
FOLLOWER_KEYS = ("user", "overrides", "scale", "paused", "risk")
RISK_KEYS = ("max_drawdown_pct", "min_roi_pct", "max_tracking_gap_pct", "on_breach")
#: Risk thresholds that are a distance, so must be above zero.
_POSITIVE_RISK = ("max_drawdown_pct", "max_tracking_gap_pct")
LIMIT_KEYS = ("min", "max")

E = TypeVar("E", bound=enum.StrEnum)
Pairs = list[tuple[str, ScalarNode, Node]]
def _reported(node: Node, value: Scalar | Node) -> bool:
    """True for a scalar whose text did not fit its explicit tag (already reported)."""
    return isinstance(node, ScalarNode) and isinstance(value, Node)


class Reader:
    """Walks one document, collecting every problem (with positions) as it goes."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.master: str | None = None
        self.root: Node | None = None
        #: The valid parts of a document that has problems (None when even its master is
        #: unknown): checked against the platform too, never applied.
        self.partial: Policy | None = None

    def problem(self, node: Node, message: str, at: DocPath) -> None:
        line, col = position(node)
        self.problems.append(Problem(self.file, message, at, line, col))

    # -- building blocks ------------------------------------------------------------------

    def value(self, node: Node, at: DocPath) -> Scalar | Node:
        """A scalar's Python value, or the node itself for a list or mapping."""
        if isinstance(node, ScalarNode):
            try:
                return yamltree.scalar(node)
            except yamltree.BadScalar as exc:
                self.problem(node, str(exc), at)
                return node
        return node

    def mapping(
        self, node: Node, at: DocPath, what: str, allowed: tuple[str, ...] | None = None
    ) -> Pairs | None:
        """The (key, key node, value node) pairs of a mapping with string keys.

        Reports a node that is not a mapping, non-string keys, duplicate keys (at the second
        occurrence) and, with ``allowed``, unknown keys. ``null`` counts as empty.
        """
        if isinstance(node, ScalarNode) and node.tag == yamltree.NULL:
            return []
        if not isinstance(node, MappingNode):
            hint = colon_hint(node)
            self.problem(node, f"{what} must be a mapping, got {describe(node)}{hint}", at)
            return None
        pairs: Pairs = []
        seen: dict[str, ScalarNode] = {}
        for key_node, value_node in node.value:
            key = self.value(key_node, at)
            if _reported(key_node, key):
                continue
            if not isinstance(key, str):
                self.problem(
                    key_node,
                    f"keys in {what} must be strings, got {describe(key_node)} (quote it)",
                    at,
                )
                continue
            if isinstance(value_node, ScalarNode) and value_node.tag == yamltree.NULL:
                fused = NO_SPACE.match(key)
                if fused is not None:
                    self.problem(
                        key_node,
                        f"{key!r} has no space after the colon, so YAML reads it as one key "
                        f"with no value: write '{fused.group(1)}: {fused.group(2)}'",
                        (*at, key),
                    )
                    continue
            if key in seen:
                line, _ = position(seen[key])
                self.problem(
                    key_node, f"duplicate key {key!r} in {what} (first at line {line})", (*at, key)
                )
            elif allowed is not None and key not in allowed:
                self.problem(key_node, unknown_key(key, what, allowed), (*at, key))
            seen.setdefault(key, key_node)
            pairs.append((key, key_node, value_node))
        return pairs

    def string(self, node: Node, at: DocPath, what: str) -> str | None:
        value = self.value(node, at)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, str):
            self.problem(node, f"{what} must be a non-empty string", at)
        elif not _reported(node, value):
            self.problem(node, f"{what} must be a string, got {describe(node)}", at)
        return None

    def number(self, node: Node, at: DocPath, what: str) -> float | None:
        value = self.value(node, at)
        if yamltree.is_number(value):
            return value
        if not _reported(node, value):
            self.problem(node, f"{what} must be a number, got {describe(node)}", at)
        return None

    def choice(self, node: Node, at: DocPath, what: str, kind: type[E]) -> E | None:
        value = self.value(node, at)
        for member in kind:
            if value == member.value and isinstance(value, str):
                return member
        if not _reported(node, value):
            names = [m.value for m in kind]
            hint = words.did_you_mean(value, names) if isinstance(value, str) else ""
            self.problem(
                node, f"{what} must be one of {' | '.join(names)}, got {describe(node)}{hint}", at
            )
        return None

    # -- the policy's parts ---------------------------------------------------------------

    def overrides(self, node: Node, at: DocPath) -> dict[str, Scalar]:
        result: dict[str, Scalar] = {}
        for key, _, value_node in self.mapping(node, at, "overrides") or []:
            where = (*at, key)
            value = self.value(value_node, where)
            if isinstance(value, Node):
                if isinstance(value_node, MappingNode | SequenceNode):
                    self.problem(
                        value_node,
                        f"override of {key} must be a string, number or true/false, "
                        f"got {describe(value_node)}",
                        where,
                    )
                continue
            if value is None:
                self.problem(value_node, f"override of {key} must not be null", where)
                continue
            if key == "investmentAmount" and yamltree.is_number(value) and value <= 0:
                self.problem(value_node, f"investmentAmount must be above zero, got {value}", where)
                continue  # left out of what is valid of the file (reported once)
            result[key] = value
        return result

    def scale(self, node: Node, at: DocPath) -> dict[str, float]:
        result: dict[str, float] = {}
        for key, _, value_node in self.mapping(node, at, "scale") or []:
            factor = self.number(value_node, (*at, key), f"scale of {key}")
            if factor is not None:
                result[key] = factor
        return result

    def risk(self, node: Node, at: DocPath) -> core.RiskRules:
        """A ``risk:`` block: thresholds in percent, ``on_breach: stop | notify``."""
        values: dict[str, float] = {}
        on_breach: core.OnBreach | None = None
        for key, _, value_node in self.mapping(node, at, "risk", RISK_KEYS) or []:
            where = (*at, key)
            if key == "on_breach":
                on_breach = self.choice(value_node, where, "on_breach", core.OnBreach)
            elif key in RISK_KEYS:
                number = self.number(value_node, where, key)
                if number is not None and key in _POSITIVE_RISK and number <= 0:
                    self.problem(value_node, f"{key} must be above zero (percentage points)", where)
                elif number is not None:
                    values[key] = number
        return core.RiskRules(
            values.get("min_roi_pct"),
            values.get("max_drawdown_pct"),
            values.get("max_tracking_gap_pct"),
            on_breach,
        )

    def layer(self, pairs: Pairs, at: DocPath) -> Layer:
        overrides: dict[str, Scalar] = {}
        scale: dict[str, float] = {}
        risk = core.RiskRules()
        for key, _, value_node in pairs:
            if key == "overrides":
                overrides = self.overrides(value_node, (*at, "overrides"))
            elif key == "scale":
                scale = self.scale(value_node, (*at, "scale"))
            elif key == "risk":
                risk = self.risk(value_node, (*at, "risk"))
        return Layer(MappingProxyType(overrides), MappingProxyType(scale), risk)

    def limits(self, node: Node, at: DocPath) -> dict[str, Limit]:
        result: dict[str, Limit] = {}
        for key, key_node, value_node in self.mapping(node, at, "limits") or []:
            where = (*at, key)
            bounds: dict[str, float | None] = {"min": None, "max": None}
            pairs = self.mapping(value_node, where, f"limits of {key}", LIMIT_KEYS)
            if pairs is None:
                continue
            for bound, _, bound_node in pairs:
                if bound in bounds:
                    bounds[bound] = self.number(bound_node, (*where, bound), f"{bound} of {key}")
            low, high = bounds["min"], bounds["max"]
            if not pairs:
                self.problem(key_node, f"limits of {key}: give min, max or both", where)
            elif low is not None and high is not None and low > high:
                self.problem(key_node, f"limits of {key}: min {low:g} is above max {high:g}", where)
            result[key] = Limit(low, high)
        return result

    def locked(self, node: Node, at: DocPath) -> frozenset[str]:
        if isinstance(node, ScalarNode) and node.tag == yamltree.NULL:
            return frozenset()
        if not isinstance(node, SequenceNode):
            self.problem(node, f"locked must be a list of setting keys, got {describe(node)}", at)
            return frozenset()
        keys = (self.string(item, (*at, i), "a locked key") for i, item in enumerate(node.value))
        return frozenset(k for k in keys if k is not None)

    def followers(self, node: Node, at: DocPath) -> tuple[FollowerPolicy, ...]:
        if isinstance(node, ScalarNode) and node.tag == yamltree.NULL:
            return ()
        if not isinstance(node, SequenceNode):
            hint = colon_hint(node)
            if isinstance(node, MappingNode) and any(
                isinstance(k, ScalarNode) and str(k.value).startswith("-") for k, _ in node.value
            ):
                hint = "; a list item needs a space after its dash: '- user: ...'"
            self.problem(node, f"followers must be a list, got {describe(node)}{hint}", at)
            return ()
        result: list[FollowerPolicy] = []
        first: dict[str, Node] = {}
        for i, item in enumerate(node.value):
            read = self.follower(item, (*at, i))
            if read is None:
                continue
            follower, user_node = read
            if follower.user in first:
                line, _ = position(first[follower.user])
                self.problem(
                    user_node,
                    f"follower {follower.user} is listed twice (first at line {line})",
                    (*at, i, "user"),
                )
                continue
            first[follower.user] = user_node
            result.append(follower)
        return tuple(result)

    def follower(self, node: Node, at: DocPath) -> tuple[FollowerPolicy, Node] | None:
        pairs = self.mapping(node, at, "a follower entry", FOLLOWER_KEYS)
        if pairs is None:
            return None
        fields = {key: value_node for key, _, value_node in pairs}
        if "user" not in fields:
            self.problem(node, "follower entry needs a user", at)
        paused = False
        if "paused" in fields:
            value = self.value(fields["paused"], (*at, "paused"))
            if isinstance(value, bool):
                paused = value
            else:
                self.problem(
                    fields["paused"],
                    f"paused must be true or false, got {describe(fields['paused'])}",
                    (*at, "paused"),
                )
        own = self.layer(pairs, at)
        self.overlap(own, at)
        user = self.string(fields["user"], (*at, "user"), "user") if "user" in fields else None
        if user is None:
            return None
        return FollowerPolicy(user, own, paused), fields["user"]

    def overlap(self, layer: Layer, at: DocPath) -> None:
        """Keys both overridden and scaled (the core's rule), placed at the scale's key."""
        for p in policy_checks.overlap_problems(self.file, layer, at):
            line, col = yamltree.find(self.root, p.at) if self.root else (1, 1)
            self.problems.append(Problem(p.file, p.message, p.at, line, col))

    # -- the document ---------------------------------------------------------------------

    def policy(self, root: Node) -> Policy | None:
        """The policy of a document, or None when it has a problem (see ``problems``, and
        ``partial`` for the parts of it that are valid)."""
        self.root = root
        if not isinstance(root, MappingNode):
            self.problem(
                root,
                f"the top level must be a mapping (master: ..., followers: ...), "
                f"got {describe(root)}{colon_hint(root)}",
                (),
            )
            return None
        pairs = self.mapping(root, (), "the policy", TOP_KEYS) or []
        fields = {key: value_node for key, _, value_node in pairs}
        if "master" in fields:
            self.master = self.string(fields["master"], ("master",), "master")
        else:
            self.problem(root, "missing required key 'master' (the master bot's botId)", ())
        defaults = Layer()
        if "defaults" in fields:
            defaults_pairs = self.mapping(
                fields["defaults"], ("defaults",), "defaults", DEFAULTS_KEYS
            )
            defaults = self.layer(defaults_pairs or [], ("defaults",))
            self.overlap(defaults, ("defaults",))
        limits = self.limits(fields["limits"], ("limits",)) if "limits" in fields else {}
        locked = self.locked(fields["locked"], ("locked",)) if "locked" in fields else frozenset()
        followers = (
            self.followers(fields["followers"], ("followers",)) if "followers" in fields else ()
        )
        removed = self._enum(fields, "on_follower_removed", core.OnFollowerRemoved)
        stopped = self._enum(fields, "on_master_stopped", core.OnMasterStopped)
        immutable = self._enum(fields, "on_immutable_change", core.OnImmutableChange)
        propagation = self._enum(fields, "propagation", core.Propagation)
        duplicate = self._enum(fields, "on_duplicate", core.OnDuplicate)
        existing = self._enum(fields, "on_existing", core.OnExisting)
        if self.master is None:
            return None
        policy = Policy(
            master=self.master,
            followers=followers,
            defaults=defaults,
            limits=MappingProxyType(limits),
            locked=locked,
            on_follower_removed=removed or core.OnFollowerRemoved.STOP,
            on_master_stopped=stopped or core.OnMasterStopped.STOP,
            on_immutable_change=immutable or core.OnImmutableChange.RECREATE,
            propagation=propagation or core.Propagation.COPYTRADER,
            on_duplicate=duplicate or core.OnDuplicate.REPORT,
            on_existing=existing or core.OnExisting.HOLD,
        )
        if self.problems:
            # What was valid of the file, so that its platform checks can be reported in
            # the same run; never applied.
            self.partial = policy
            return None
        return policy

    def _enum(self, fields: dict[str, Node], key: str, kind: type[E]) -> E | None:
        return self.choice(fields[key], (key,), key, kind) if key in fields else None
