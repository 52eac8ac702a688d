"""``copytrader explain MASTER FOLLOWER``: why the follower's clone has each value.

Reads the policies, the platform (one sweep, read requests only) and the database's links,
as ``plan`` does, and prints every desired setting with its value, the layer that set it,
the value after each step and the clone's actual value (:mod:`copytrader.core.explain`).
Writes nothing anywhere. Exit 0; 1 when the master bot is not on the platform (nothing to
explain); 2 when MASTER or FOLLOWER names nothing (or too much), or the master's policy file
is invalid.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from copytrader.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, context, parsers

if TYPE_CHECKING:
    from rich.console import Console

    from copytrader.core.explain import Explanation
    from copytrader.reconcile.reading import Reading
    from copytrader.settings import Settings


_EXPLAIN = """\
Why a follower's clone has each value: every desired setting with its value, the layer that
produced it (the last step that applied to the key: master, defaults, override, scale,
limit, or locked), the value after each step, and the clone's actual value read from the
platform now, beside it; then the desired and actual status and who carries the master's
edits (propagation). Reads the policies, the platform (one sweep, read requests only) and
the database's links, as plan does; writes nothing. MASTER and FOLLOWER take unique
prefixes."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = parsers.command(
        sub,
        "explain",
        summary="every desired setting of a follower's clone, the layer that set it, and the "
        "clone's actual value (read-only)",
        description=_EXPLAIN,
        env=(*parsers.READ_PLATFORM, *parsers.TABLES),
        exits={
            EXIT_OK: "explained",
            EXIT_FAILED: "the master bot is not on the platform (nothing to explain), or the "
            "platform or the database could not be read",
            EXIT_USAGE: "MASTER or FOLLOWER names nothing or several, or the master's policy "
            "file is invalid",
        },
        examples=["copytrader explain 6dafad4e f873b314", "copytrader explain 6dafad4e "
                  "f873b314 --json | jq '.settings[] | select(.layer != \"master\")'"],
    )
    p.add_argument("master", metavar="MASTER", help="the master bot id (or a unique prefix)")
    p.add_argument("follower", metavar="FOLLOWER", help="the follower user id (or a prefix)")
    parsers.table_options(p)
    p.set_defaults(handler=explain, needs_platform=True)


class _Refused(Exception):
    """The arguments name nothing to explain; the message says why (one line)."""


def _pick(args: argparse.Namespace, r: Reading) -> tuple[str, str]:
    """The master and follower the arguments name, or _Refused / ValueError naming why."""
    masters = [p.master for p in r.policies]
    try:
        master = context.resolve("master of a valid policy", args.master, masters)
    except ValueError:
        invalid = sorted(
            (path, m) for path, m in r.invalid_masters.items() if m.startswith(args.master)
        )
        if len(invalid) == 1 and not any(m.startswith(args.master) for m in masters):
            path, m = invalid[0]
            raise _Refused(
                f"the policy file {path} of master {m} is invalid "
                "(copytrader policy check says why)"
            ) from None
        raise
    policy = next(p for p in r.policies if p.master == master)
    users = [f.user for f in policy.followers]
    return master, context.resolve(f"follower of {master}", args.follower, users)


async def explain(args: argparse.Namespace, s: Settings) -> int:
    from copytrader.core import explain as explain_mod
    from copytrader.core import plan as plan_mod
    from copytrader.reconcile import wiring

    async with wiring.open_service(s) as svc:
        r = await svc.reconciler.read()
    try:
        master_id, user = _pick(args, r)
    except (_Refused, ValueError) as exc:
        print(f"copytrader explain: {exc}", file=sys.stderr)
        return EXIT_USAGE
    policy = next(p for p in r.policies if p.master == master_id)
    follower = policy.follower(user)
    master = r.world.bots.get(master_id)
    script = r.world.catalogue.script(master.type) if master is not None else None
    if follower is None or master is None or script is None:
        why = "is not on the platform" if master is None else "has a type not in the catalogue"
        print(f"copytrader explain: master bot {master_id} {why}", file=sys.stderr)
        return EXIT_FAILED
    # The clone the planner would converge (a lost answer's bot included).
    planned = plan_mod.build([policy], r.world)
    mine = next((fp for fp in planned.followers if fp.follower == user and fp.desired), None)
    clone, want = (mine.clone, mine.desired) if mine is not None else (None, None)
    found = explain_mod.explain(policy, follower, master, script, clone, want)
    if args.json:
        context.print_json(found.to_json())
    else:
        render(context.out(args.wide), found, wide=args.wide)
    return EXIT_OK


def render(console: Console, found: Explanation, *, wide: bool = False) -> None:
    """The human form: a heading with the clone and its propagation, then one row per key
    (values in the policy's own words; no key split, whatever the width)."""
    from rich.text import Text

    from copytrader.cli.grid import Column, Grid
    from copytrader.core import words

    status = found.status.value if found.status else "left as it is"
    if found.held:
        status += f" (held by a risk guard: {found.held})"
    have = found.actual_status.value if found.actual_status else "-"
    carried = found.propagation.value
    if found.bot is not None and found.clone_propagation is not found.propagation:
        now = found.clone_propagation.value if found.clone_propagation else "another bot"
        carried += f" (the clone as it is: {now}; a new clone changes it)"
    for line in (
        f"master   {found.master}",
        f"follower {found.follower}" + ("  (paused)" if found.paused else ""),
        f"clone    {found.bot or '- (none yet)'}",
        f"status   desired {status}, actual {have}",
        f"propagation {carried}",
    ):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    grid = Grid(
        None,
        [
            Column("setting"),
            Column("value", "text"),
            Column("layer"),
            Column("steps", "text", optional=True),
            Column("actual", "text"),
        ],
    )
    for s in found.settings:
        steps = " -> ".join(f"{layer.value} {words.show(value)}" for layer, value in s.steps)
        actual = Text("-" if s.actual is None else words.show(s.actual))
        if s.in_sync is False:
            actual.stylize("red")
            actual.append(" (differs)")
        layer = Text(s.layer.value, style="" if s.layer.value == "master" else "bold")
        grid.add_row(s.key, Text(words.show(s.value)), layer, Text(steps), actual)
    grid.render(console, wide=wide)
    if found.differing:
        console.print(
            f"{words.plural(len(found.differing), 'setting')} differ from the desired value"
            if len(found.differing) > 1
            else "1 setting differs from the desired value"
        )
