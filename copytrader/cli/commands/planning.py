"""``copytrader plan``, ``reconcile`` and ``drift``: the commands that read the platform."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from copytrader.cli import EXIT_FAILED, EXIT_LEASE, EXIT_OK, context, parsers

if TYPE_CHECKING:
    from datetime import datetime

    from copytrader.core.actions import Action, Note
    from copytrader.notify.ports import Sink
    from copytrader.reconcile.wiring import Service
    from copytrader.settings import Settings


_PLAN = """\
What a reconcile pass would do now: the platform writes per follower (clone, edit, start,
stop, delete) with the settings each would change, then what waits for a person (held:
flagged immutable changes, adopt candidates, suspected duplicates, missing masters) and every
problem of an invalid policy file (PATH:LINE:COL: message; nothing of that file is planned,
the valid files still are). Sends read requests only; writes nothing anywhere."""

_RECONCILE = """\
One reconcile pass, then exit: reads the policies and the platform, makes the writes the
plan lists, and records them (audit trail, snapshots). Holds the writer lease while it runs,
so that no other copytrader writes to the platform at the same time."""

_DRIFT = """\
Every follower whose clone differs from its desired state now (changed by someone else, or
not yet converged), read from the platform. Read requests only; what it finds is recorded in
the audit trail as drift events."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plan_p = parsers.command(
        sub,
        "plan",
        summary="what a reconcile would do now (read requests only)",
        description=_PLAN,
        env=(*parsers.READ_PLATFORM, *parsers.TABLES),
        exits={
            EXIT_OK: "every policy file is valid (the plan may be empty or hold items)",
            EXIT_FAILED: "a policy file is invalid (its problems are listed), or the "
            "platform or the database could not be read",
            **parsers.USAGE,
        },
        examples=["copytrader plan", "copytrader plan --json | jq '.actions | length'"],
    )
    parsers.table_options(plan_p)
    plan_p.set_defaults(handler=plan, needs_platform=True)

    reconcile_p = parsers.command(
        sub,
        "reconcile",
        summary="one reconcile pass, then exit",
        description=_RECONCILE,
        env=(*parsers.WRITE_PLATFORM, *parsers.TABLES),
        exits={
            EXIT_OK: "converged: every action succeeded and every listed follower has its "
            "clone",
            EXIT_FAILED: "some work failed, a policy file is invalid, or a listed follower "
            "is left without its clone (a missing master, an adopt candidate)",
            **parsers.USAGE,
            EXIT_LEASE: "another copytrader holds the writer lease (one line naming it); "
            "nothing was done",
        },
        examples=["copytrader reconcile", "copytrader reconcile --wait 60 --json"],
    )
    parsers.table_options(reconcile_p)
    reconcile_p.add_argument(
        "--wait",
        type=context.seconds,
        default=0.0,
        metavar="SECONDS",
        help="wait up to SECONDS for the writer lease when another copytrader holds it "
        "(default: 0, exit 3 at once)",
    )
    reconcile_p.set_defaults(handler=reconcile, needs_platform=True)

    drift_p = parsers.command(
        sub,
        "drift",
        summary="every follower whose clone differs from its desired state now",
        description=_DRIFT,
        env=(*parsers.READ_PLATFORM, *parsers.TABLES),
        exits=parsers.PLATFORM_EXITS,
    )
    parsers.table_options(drift_p)
    drift_p.set_defaults(handler=drift, needs_platform=True)


def _for_people(actions: Sequence[Action], docs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The action documents for the human table: a new clone lists only the values that do
    not come from the master (the JSON output keeps every key)."""
    from copytrader.core import words
    from copytrader.core.actions import Kind
    from copytrader.core.desired import Source

    out = []
    for action, doc in zip(actions, docs, strict=True):
        if action.kind is Kind.CLONE:
            own = {
                k: v
                for k, v in doc["changes"].items()
                if action.changes[k].layer not in (None, Source.MASTER, Source.LOCKED)
            }
            same = len(doc["changes"]) - len(own)
            doc = {**doc, "changes": own}
            if same:
                doc["more"] = f"(+{words.plural(same, 'setting')} as the master)"
        out.append(doc)
    return out


def _held_for_people(held: Sequence[Note]) -> list[dict[str, Any]]:
    """The HELD documents for the human table, each with its note's detail (the JSON keeps
    the contract's shape)."""
    return [{**n.to_held_json(), "detail": n.detail} for n in held]


def _nothing(s: Settings) -> str:
    """What an empty plan says: nothing to do, or that there is no policy to plan from."""
    from copytrader.policy import loader

    try:
        files = loader.policy_files(s.policy_dir)
    except OSError:
        files = []
    if not files:
        return f"nothing to do: no policy files in {s.policy_dir} (*.yaml, *.yml)"
    return "nothing to do: every clone matches its desired state"


async def plan(args: argparse.Namespace, s: Settings) -> int:
    from copytrader.cli import tables
    from copytrader.reconcile import wiring

    async with wiring.open_service(s) as svc:
        the_plan, problems = await svc.reconciler.plan()
    doc = the_plan.to_json(problems)
    if args.json:
        context.print_json(doc)
    else:
        tables.render_plan(
            context.out(args.wide),
            _for_people(the_plan.actions, doc["actions"]),
            problems=doc["problems"],
            held=_held_for_people(the_plan.held),
            empty=_nothing(s),
            wide=args.wide,
        )
    return EXIT_FAILED if problems else EXIT_OK


#: The longest ``reconcile`` spends delivering its own notifications before it exits.
DRAIN_SECONDS = 10.0


async def reconcile(args: argparse.Namespace, s: Settings) -> int:
    from datetime import UTC, datetime

    from copytrader.cli import tables
    from copytrader.notify import sinks
    from copytrader.policy import loader
    from copytrader.reconcile import wiring
    from copytrader.reconcile.service import aborted_detail

    loader.check_dir(s.policy_dir)  # a missing policy folder is exit 2, not a failed pass
    outs = sinks.build(s.notify)  # a bad notification URL is exit 2 before anything is done
    started = datetime.now(UTC)
    async with wiring.open_writer(s, wait=args.wait) as svc:
        result = await svc.reconciler.run_pass()
        if outs:
            await _deliver(svc, outs, started)
    if result.error:
        print(f"copytrader reconcile: pass aborted: {result.error}", file=sys.stderr)
    doc = result.to_json()
    if args.json:
        context.print_json(doc)
    else:
        tables.render_plan(
            context.out(args.wide),
            _for_people(result.plan.actions, doc["actions"]),
            problems=doc["problems"],
            held=_held_for_people(result.plan.held),
            title="reconcile",
            empty="reconcile: nothing to do, every clone matched its desired state"
            if not result.error
            else f"reconcile: the pass was aborted; {aborted_detail(result.writes_recorded)}",
            wide=args.wide,
        )
    return EXIT_OK if result.converged else EXIT_FAILED


async def _deliver(svc: Service, outs: list[Sink], since: datetime) -> None:
    """Deliver this process's notifications (within :data:`DRAIN_SECONDS`; the rest stays in
    the outbox for the next copytrader process), still holding the writer lease."""
    from copytrader.errors import CopytraderError
    from copytrader.notify.sender import Sender

    sender = Sender(svc.store, outs)
    try:
        if not await sender.drain(since=since, seconds=DRAIN_SECONDS):
            print(
                "copytrader: some notifications are not delivered yet; they stay in the "
                "outbox and the next copytrader process sends them",
                file=sys.stderr,
            )
    except CopytraderError as exc:
        print(f"copytrader: notifications not delivered: {exc}", file=sys.stderr)
    finally:
        await sender.close()


async def drift(args: argparse.Namespace, s: Settings) -> int:
    from copytrader.cli import tables
    from copytrader.reconcile import wiring

    async with wiring.open_service(s) as svc:
        found = await svc.reconciler.drift()
    if args.json:
        context.print_json({"drift": found})
    else:
        tables.render_drift(context.out(args.wide), found, wide=args.wide)
    return EXIT_OK
