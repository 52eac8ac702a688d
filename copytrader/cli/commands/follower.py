"""``copytrader follower add|remove|pause|unpause FILE USER``: edit one policy file in place.

Only that follower's lines change; the result is checked as ``policy check`` checks (the
platform included) before the file is replaced atomically (:mod:`copytrader.policy.followers`).
Exit 0 when the file says what was asked (written, or already so); 2 with one line per
problem when the change or its result is invalid, or USER is not listed (nothing written);
1 when the platform could not be read or the file changed during the edit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from copytrader.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, context, parsers

if TYPE_CHECKING:
    from copytrader.policy.check import PlatformReader
    from copytrader.policy.edit import Entry
    from copytrader.settings import Settings

_DONE = {"add": "added", "remove": "removed", "pause": "paused", "unpause": "unpaused"}
_ALREADY = {"pause": "already paused", "unpause": "not paused"}


_FOLLOWER = """\
Edits one policy file in place, as a person would: only that follower's lines change (every
other line, comments and layout included, stays byte for byte). The result is checked first
as policy check checks it, the platform included (read requests only); when it is invalid
nothing is written. The file is replaced atomically."""

_OPS = {
    "add": (
        "add USER to the policy FILE",
        "Adds USER (a user id, or a unique prefix of one the platform knows) to FILE's "
        "followers, with its own overrides, scale and paused state if given.",
    ),
    "remove": (
        "remove USER's entry from the policy FILE",
        "Removes USER's entry (a unique prefix of a follower in FILE will do); the policy's "
        "on_follower_removed says what happens to its clone at the next pass.",
    ),
    "pause": (
        "pause USER (the clone is kept stopped)",
        "Sets paused: true on USER's entry: the clone exists but is kept stopped.",
    ),
    "unpause": ("unpause USER", "Removes USER's paused: true; the clone follows the master."),
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ops = parsers.group(
        sub,
        "follower",
        summary="add, remove, pause or unpause a follower in a policy file",
        description=_FOLLOWER,
        dest="follower_command",
    )
    exits = {
        EXIT_OK: "the file says what was asked (written, or already so)",
        EXIT_FAILED: "the platform could not be read, or the file changed during the edit",
        EXIT_USAGE: "the change or its result is invalid (one line per problem), or USER is "
        "not listed; nothing written",
    }
    for name, (summary, text) in _OPS.items():
        op = parsers.command(
            ops,
            name,
            summary=summary,
            description=f"{text}\n\n{_FOLLOWER}",
            env=(*parsers.CONFIG, *parsers.PLATFORM, *parsers.LOGS),
            exits=exits,
            examples={
                "add": ["copytrader follower add policies/eth-grid.yaml 3f1315cb --override "
                        "stopValue=3600 --scale investmentAmount=0.5"],
                "remove": ["copytrader follower remove policies/eth-grid.yaml f873b314"],
                "pause": ["copytrader follower pause policies/eth-grid.yaml f873b314"],
                "unpause": ["copytrader follower unpause policies/eth-grid.yaml f873b314"],
            }[name],
        )
        op.add_argument("file", metavar="FILE", type=Path, help="the policy file to edit")
        op.add_argument("user", metavar="USER", help="the follower's user id (or a unique prefix)")
        if name == "add":
            op.add_argument(
                "--override",
                action="append",
                default=[],
                metavar="K=V",
                help="the follower's own value of setting K (V read as YAML: 3600 a number, "
                "Price a string); repeatable (default: none)",
            )
            op.add_argument(
                "--scale",
                action="append",
                default=[],
                metavar="K=F",
                help="multiply the master's number K by F; repeatable (default: none)",
            )
            op.add_argument(
                "--paused", action="store_true", help="add it paused (its clone kept stopped)"
            )
        op.set_defaults(handler=follower, needs_platform=True)


def _pairs(option: str, given: list[str]) -> list[tuple[str, str]]:
    """``K=V`` options as (K, V) in order; ValueError naming a malformed or repeated one."""
    out: list[tuple[str, str]] = []
    for item in given:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--{option} {item!r}: expected K=V")
        if any(k == key for k, _ in out):
            raise ValueError(f"--{option} {key} is given twice")
        out.append((key, value))
    return out


def _entry(args: argparse.Namespace, user: str) -> Entry:
    from copytrader.policy import edit, yamltree

    overrides = _pairs("override", args.override)
    scale = _pairs("scale", args.scale)
    for option, pairs in (("override", overrides), ("scale", scale)):
        for key, text in pairs:
            try:
                value = yamltree.read_scalar(text)
            except yamltree.Refusal as exc:
                raise ValueError(f"--{option} {key}={text}: {exc.message}") from None
            if option == "scale" and not yamltree.is_number(value):
                raise ValueError(f"--scale {key}={text}: the factor must be a number")
    return edit.Entry(user, tuple(overrides), tuple(scale), args.paused)


async def _user(args: argparse.Namespace, platform: PlatformReader) -> str:
    """USER as given, or the one id it is a unique prefix of: among the platform's users
    for ``add``, among the file's followers otherwise. ValueError naming the problem."""
    import asyncio

    from copytrader.policy import loader

    if args.follower_command == "add":
        ids = [u.user_id async for u in platform.iter_users()]
        if not args.user or not any(i.startswith(args.user) for i in ids):
            return str(args.user)  # the check names an unknown user with its line
        return context.resolve("user on the platform", args.user, ids)
    policy, _ = await asyncio.to_thread(loader.load_file, args.file)
    if policy is None:
        return str(args.user)  # the edit reports the file's problems
    users = [f.user for f in policy.followers]
    return context.resolve(f"follower in {args.file}", args.user, users)


async def follower(args: argparse.Namespace, s: Settings) -> int:
    from copytrader.platform import adapters
    from copytrader.policy import followers

    op = args.follower_command
    where = f"copytrader follower {op}"
    async with adapters.from_settings(s.platform) as platform:
        try:
            user = await _user(args, platform)
            entry = _entry(args, user) if op == "add" else None
        except ValueError as exc:
            print(f"{where}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        change = followers.Change(followers.Op(op), user, entry)
        try:
            done = await followers.apply(args.file, change, platform)
        except followers.Refused as refused:
            for line in refused.lines:
                print(f"{where}: {line}; nothing was written", file=sys.stderr)
            return EXIT_USAGE
    if done.written:
        preposition = {"add": "to", "remove": "from"}.get(op, "in")
        print(f"{_DONE[op]} {user} {preposition} {args.file}")
    else:
        print(f"{user} is {_ALREADY[op]} in {args.file}; nothing to change")
    return EXIT_OK
