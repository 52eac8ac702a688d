"""``copytrader sim edit|start|stop``: a change to a running simulator's bot, sent through the
partner API as a strategy manager's own tool would send it."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable

from copytrader.cli import context
from copytrader.core import words
from copytrader.core.model import Scalar
from copytrader.errors import UsageError


def setting(text: str) -> tuple[str, Scalar]:
    """``KEY=VALUE`` with VALUE read as a YAML scalar (``3600`` a number, ``true`` a
    boolean, ``Price`` a string). UsageError when there is no ``=`` or no key."""
    from copytrader.policy import yamltree

    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"{text!r}: expected KEY=VALUE, such as stopValue=3900")
    try:
        node = yamltree.compose(raw) if raw.strip() else None
    except yamltree.Refusal as exc:
        raise UsageError(f"{text!r}: {exc.message}") from None
    from yaml.nodes import ScalarNode

    if node is None:
        return key.strip(), ""
    if not isinstance(node, ScalarNode):
        raise UsageError(f"{text!r}: the value must be a single value, not a list or mapping")
    try:
        return key.strip(), yamltree.scalar(node)
    except yamltree.BadScalar as exc:
        raise UsageError(f"{text!r}: {exc}") from None


async def change(args: argparse.Namespace) -> str:
    """Send the change ``args`` asks for; one line saying what was done."""
    from copytrader.sim import cli as sim_cli

    host = getattr(args, "host", sim_cli.DEFAULT_HOST)
    port = getattr(args, "port", sim_cli.DEFAULT_PORT)
    key = getattr(args, "api_key", None) or os.environ.get("COPYTRADER_API_KEY") or "sim-key"
    edits = dict(setting(s) for s in getattr(args, "settings", ()))
    url = f"http://{host}:{port}"
    if getattr(args, "platform", "haas") == "botprimex":
        return await _botprimex(args, url, key, edits)
    return await _haas(args, url, key, edits)


def _which(url: str, given: str, ids: Iterable[str]) -> str:
    try:
        return context.resolve(f"bot on the simulator at {url}", given, ids)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _edited(bot_id: str, owner: str, edits: dict[str, Scalar]) -> str:
    shown = ", ".join(f"{k}: {words.show(v)}" for k, v in edits.items())
    return f"edited {bot_id} ({owner}): {shown}"


async def _haas(args: argparse.Namespace, url: str, key: str, edits: dict[str, Scalar]) -> str:
    """HaasOnline: /bots/edit needs the bot's owner as userId, found by a /bots/list sweep."""
    from copytrader.platform.haas.client import PlatformClient
    from copytrader.settings import Secret

    async with PlatformClient(url, Secret(key), rate_limit_per_minute=None, timeout=10) as api:
        bots = {b.bot_id: b async for b in api.iter_bots()}
        bot_id = _which(url, args.bot, bots)
        bot = bots[bot_id]
        if args.sim_command == "edit":
            await api.edit_bot(bot.user_id, bot_id, edits)
            return _edited(bot_id, f"{bot.type} of user {bot.user_id}", edits)
        if args.sim_command == "start":
            await api.start_bot(bot_id)
            return f"started {bot_id}"
        await api.stop_bot(bot_id)
        return f"stopped {bot_id}"


async def _botprimex(
    args: argparse.Namespace, url: str, key: str, edits: dict[str, Scalar]
) -> str:
    """BotPrimeX: ``PATCH /bots/:id`` with the key of the account that owns the bot (the
    master account's, --api-key)."""
    from copytrader.platform.botprimex.client import BotPrimeXClient
    from copytrader.settings import Secret

    async with BotPrimeXClient(url, Secret(key), {}, rate_limit_per_minute=None) as api:
        bots = {b.bot_id: b for b in await api.master.bots()}
        bot_id = _which(url, args.bot, bots)
        if args.sim_command == "edit":
            await api.master.edit(bot_id, edits)
            return _edited(bot_id, f"{bots[bot_id].type} of the master account", edits)
        if args.sim_command == "start":
            await api.master.start(bot_id)
            return f"started {bot_id}"
        await api.master.stop(bot_id)
        return f"stopped {bot_id}"
