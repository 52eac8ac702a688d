"""``copytrader plan``, ``reconcile`` and ``drift``: the commands that read the platform."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from copytrader.cli import EXIT_FAILED, EXIT_OK, context

if TYPE_CHECKING:
    from datetime import datetime

    from copytrader.core.actions import Action, Note
    from copytrader.notify.ports import Sink
    from copytrader.reconcile.wiring import Service
    from copytrader.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, text, handler in (
        ("plan", "what a reconcile would do now (read requests only)", plan),
        ("reconcile", "one reconcile pass, then exit", reconcile),
        ("drift", "every follower whose clone differs from its desired state now", drift),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--json", action="store_true", help="print the JSON document")
        if name == "reconcile":
            p.add_argument(
                "--wait",
                type=context.seconds,
                default=0.0,
                metavar="SECONDS",
                help="wait up to SECONDS for the writer lease if another copytrader holds it "
                "(default: exit 3 at once)",
            )
        p.set_defaults(handler=handler, needs_platform=True)


def _for_people(actions: Sequence[Action], docs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The action documents for the human table: a new clone lists only the values that do
    not come from the master (the JSON output keeps every key)."""
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
            if same:
                own[f"(+{same} as the master)"] = [None, "..."]
            doc = {**doc, "changes": own}
        out.append(doc)
    return out


def _held_for_people(held: Sequence[Note]) -> list[dict[str, Any]]:
    """The HELD documents for the human table, each with its note's detail (the JSON keeps
    the contract's shape)."""
    return [{**n.to_held_json(), "detail": n.detail} for n in held]


async def plan(args: argparse.Namespace, s: Settings) -> int:
    from copytrader.cli import tables
    from copytrader.reconcile import wiring

    async with wiring.open_service(s) as svc:
        the_plan, problems = await svc.reconciler.plan()
    doc = the_plan.to_json(problems)
    if args.json:
        context.print_json(doc)
    else:
        actions = the_plan.actions
        tables.render_plan(
            context.out(),
            _for_people(actions, doc["actions"]),
            problems=doc["problems"],
            held=_held_for_people(the_plan.held),
        )
    return EXIT_FAILED if problems else EXIT_OK


#: The longest ``reconcile`` spends delivering its own notifications before it exits.
DRAIN_SECONDS = 10.0


async def reconcile(args: argparse.Namespace, s: Settings) -> int:
    from datetime import UTC, datetime

    from copytrader.cli import tables
    from copytrader.notify import sinks
    from copytrader.reconcile import wiring

    outs = sinks.build(s.notify)  # a bad notification URL is exit 2 before anything is done
    started = datetime.now(UTC)
    async with wiring.open_writer(s, wait=args.wait) as svc:
        result = await svc.reconciler.run_pass()
        if outs:
            await _deliver(svc, outs, started)
    if result.error:
        print(f"copytrader: pass aborted: {result.error}", file=sys.stderr)
    doc = result.to_json()
    if args.json:
        context.print_json(doc)
    else:
        tables.render_plan(
            context.out(),
            _for_people(result.plan.actions, doc["actions"]),
            problems=doc["problems"],
            held=_held_for_people(result.plan.held),
            title="reconcile",
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
        tables.render_drift(context.out(), found)
    return EXIT_OK
