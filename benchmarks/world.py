"""The benchmark's world: a simulated platform with one or more masters and N followers.

Users and bots are created directly in the simulator's state (creating 100,000 of them over
HTTP would measure the simulator, not copytrader). Every follower gets the same kind of
policy entry, so both copiers aim at the same desired state:

- every follower of a master clones its spot DCA bot, with the defaults' ``stopLoss: 8``;
- every 10th follower overrides ``stopLoss: 5``, every 3rd scales ``investmentAmount`` by 0.5;
- ``investmentAmount`` is clamped to [20, 5000].

A policy file holds at most :data:`PER_FILE` followers: the loader refuses files over 1 MiB
(``copytrader.policy.yamltree.MAX_BYTES``), so 100,000 followers are 10 masters of 10,000.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from copytrader.core.policy import FollowerPolicy, Layer, Limit, Policy, PolicySource
from copytrader.sim.haas.state import SimState

KEY = "bench-key"
EXCHANGE = "BITMEXSPOT"
BOT_TYPE = "spot_dollar_cost_averaging"
MASTER_SETTINGS: Mapping[str, Any] = MappingProxyType({
    "symbol": "BITMEXSPOT_BTC_USDT_", "investmentAmount": 200, "takeProfit": 2,
    "stopLoss": 10, "volumeScale": 1,
})
DEFAULT_OVERRIDES: Mapping[str, Any] = MappingProxyType({"stopLoss": 8})
LIMITS = {"investmentAmount": (20, 5000)}
#: The editable key a fan-out changes on the master (``canBeEdited: true`` for spot DCA).
FANOUT_KEY = "takeProfit"
PER_FILE = 10_000


def own_layer(index: int) -> tuple[dict[str, Any], dict[str, float]]:
    """Follower ``index``'s own overrides and scale factors."""
    overrides: dict[str, Any] = {"stopLoss": 5} if index % 10 == 0 else {}
    scale: dict[str, float] = {"investmentAmount": 0.5} if index % 3 == 0 else {}
    return overrides, scale


@dataclass
class Group:
    """One master and its followers (one policy file)."""

    master: str
    owner: str
    followers: list[str] = field(default_factory=list)


@dataclass
class World:
    """The simulator state and who is who in it."""

    state: SimState
    groups: list[Group]

    @property
    def followers(self) -> int:
        return sum(len(g.followers) for g in self.groups)

    def pairs(self) -> Iterator[tuple[Group, int, str]]:
        """(group, follower index within the file, follower user id) for every follower."""
        for g in self.groups:
            for i, user in enumerate(g.followers):
                yield g, i, user


def build(n: int, *, seed: int = 1, latency: float = 0.0) -> World:
    """A simulator state with ``ceil(n / PER_FILE)`` running masters and ``n`` follower users.

    The same ``n`` and ``seed`` give the same ids, so two copiers can get identical worlds.
    """
    state = SimState(api_key=KEY, seed=seed, latency=latency)
    groups: list[Group] = []
    left = n
    while left > 0:
        owner = state.create_user(EXCHANGE)
        master = state.create_bot(owner, BOT_TYPE, dict(MASTER_SETTINGS))["botId"]
        size = min(left, PER_FILE)
        groups.append(Group(master, owner, [state.create_user(EXCHANGE) for _ in range(size)]))
        left -= size
    return World(state, groups)


def _flow(values: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in values.items()) + "}"


def policy_yaml(group: Group) -> str:
    """The policy file text of ``group`` (the format of ``/work/shared/CONTRACT.md``)."""
    lo, hi = LIMITS["investmentAmount"]
    lines = [
        f"master: {group.master}",
        "defaults:",
        "  overrides: " + _flow(DEFAULT_OVERRIDES),
        "limits:",
        f"  investmentAmount: {{min: {lo}, max: {hi}}}",
        "locked: [symbol]",
        "followers:",
    ]
    for i, user in enumerate(group.followers):
        lines.append(f"  - user: {user}")
        overrides, scale = own_layer(i)
        if overrides:
            lines.append("    overrides: " + _flow(overrides))
        if scale:
            lines.append("    scale: " + _flow(scale))
    lines += ["on_follower_removed: stop", "on_master_stopped: stop",
              "on_immutable_change: recreate", ""]
    return "\n".join(lines)


def write_policies(world: World, folder: Path) -> list[Path]:
    """One policy file per master in ``folder`` (created); returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, group in enumerate(world.groups):
        path = folder / f"master-{k:03d}.yaml"
        path.write_text(policy_yaml(group), encoding="utf-8")
        paths.append(path)
    return paths


def policy(group: Group, path: str = "") -> Policy:
    """The Policy value of ``group`` built in code (what the loader makes of the file)."""
    followers = []
    for i, user in enumerate(group.followers):
        overrides, scale = own_layer(i)
        followers.append(FollowerPolicy(
            user, Layer(MappingProxyType(overrides), MappingProxyType(scale))))
    lo, hi = LIMITS["investmentAmount"]
    return Policy(
        master=group.master,
        followers=tuple(followers),
        defaults=Layer(MappingProxyType(dict(DEFAULT_OVERRIDES))),
        limits=MappingProxyType({"investmentAmount": Limit(lo, hi)}),
        locked=frozenset({"symbol"}),
        source=PolicySource(path, ""),
    )


def desired_settings(master: Mapping[str, Any], index: int) -> dict[str, Any]:
    """Follower ``index``'s desired settings as a plain script computes them (the naive copier
    and the seeding use this; copytrader computes its own in ``copytrader.core.desired``)."""
    want = dict(master)
    want.update(DEFAULT_OVERRIDES)
    overrides, scale = own_layer(index)
    want.update(overrides)
    for key, factor in scale.items():
        if key not in overrides:
            want[key] = want[key] * factor
    for key, (lo, hi) in LIMITS.items():
        want[key] = min(max(want[key], lo), hi)
    return want
