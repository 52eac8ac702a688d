"""``copytrader sim edit|start|stop``: a change to a running simulator's bot, sent through the
partner API as a strategy manager's own tool would send it."""

from __future__ import annotations

import argparse
import os

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
    from copytrader.platform.haas.client import PlatformClient
    from copytrader.settings import Secret
    from copytrader.sim import cli as sim_cli

    host = getattr(args, "host", sim_cli.DEFAULT_HOST)
    port = getattr(args, "port", sim_cli.DEFAULT_PORT)
    key = getattr(args, "api_key", None) or os.environ.get("COPYTRADER_API_KEY") or "sim-key"
    edits = dict(setting(s) for s in getattr(args, "settings", ()))
    url = f"http://{host}:{port}"
    async with PlatformClient(url, Secret(key), rate_limit_per_minute=None, timeout=10) as api:
        bots = {b.bot_id: b async for b in api.iter_bots()}
        try:
            bot_id = context.resolve(f"bot on the simulator at {url}", args.bot, bots)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        bot = bots[bot_id]
        if args.sim_command == "edit":
            await api.edit_bot(bot.user_id, bot_id, edits)
            shown = ", ".join(f"{k}: {words.show(v)}" for k, v in edits.items())
            return f"edited {bot_id} ({bot.type} of user {bot.user_id}): {shown}"
        if args.sim_command == "start":
            await api.start_bot(bot_id)
            return f"started {bot_id}"
        await api.stop_bot(bot_id)
        return f"stopped {bot_id}"
