"""Help that teaches: every command's ``--help`` opens with a description, shows each
option's default, the environment variables it reads and its exit codes; ``audit --help``
lists the audit actions. Checked for every command the parser has, so a command added later
is held to it too."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

import pytest

from copytrader.cli import main, parsers
from copytrader.core.audit_actions import ACTIONS
from tests.reliability.support import run_cli, subprocess_env


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))
    if path and not any(isinstance(a, argparse._SubParsersAction) and a.required
                        for a in parser._actions):
        yield path, parser


COMMANDS = list(_commands(main.build_parser()))


def test_every_command_is_covered() -> None:
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {"policy check", "plan", "reconcile", "status", "audit", "history", "db upgrade",
            "sim", "sim edit", "demo", "run", "drift", "adopt"} <= names


@pytest.mark.parametrize(("path", "parser"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_each_help_page_teaches(path: tuple[str, ...], parser: argparse.ArgumentParser) -> None:
    text = parser.format_help()
    assert text.startswith(f"usage: copytrader {' '.join(path)}")
    description = text.split("\n\n")[1]
    assert len(description) > 20 and not description.startswith("options:"), description
    assert "\nexit codes:\n" in text and re.search(r"\n  0 +\S", text)
    assert re.search(r"\n  2 +\S", text)  # every command can be given a bad option
    assert "\nenvironment:\n" in text, "say which variables it reads"
    assert "--config FILE" in text  # the global options, after the command too
    for action in parser._actions:
        if not action.option_strings or action.default in (None, False, argparse.SUPPRESS):
            continue
        if isinstance(action, argparse._HelpAction | argparse._VersionAction):
            continue
        shown = parser._get_formatter()._expand_help(action) if action.help else ""
        assert action.help and "default" in shown, f"{action.option_strings}: no default shown"


def test_the_environment_variables_named_are_described() -> None:
    for path, parser in COMMANDS:
        block = parser.format_help().split("\nenvironment:\n")[1].split("\n\n")[0]
        for name in re.findall(r"^  (\w+)", block, re.M):
            assert parsers.ENV.get(name), f"{' '.join(path)}: {name} is not described"


async def test_audit_help_lists_every_action() -> None:
    code, out, err = await run_cli("audit", "--help", env=subprocess_env(COLUMNS="100"))
    assert code == 0 and err == ""
    listed = out.split("audit actions (--action):\n")[1].split("\n\n")[0]
    names = re.findall(r"^  (\w+)  ", listed, re.M)
    assert names == list(ACTIONS)
    for meaning in ACTIONS.values():
        assert " ".join(meaning.split()[:3]) in " ".join(listed.split())
    assert "  COPYTRADER_DATABASE_URL  " in out
    assert "--limit N        only the newest N events, still oldest first (default: every" in out


async def test_help_and_version_need_no_configuration() -> None:
    env = {k: v for k, v in subprocess_env().items() if k != "HOME"}
    code, out, _ = await run_cli("--help", env=env)
    assert code == 0 and "COMMAND" in out and "copytrader COMMAND --help" in " ".join(out.split())
    code, out, _ = await run_cli("--version", env=env)
    assert code == 0 and out.startswith("copytrader ")
    code, out, _ = await run_cli("reconcile", "--help", env=env)
    assert code == 0
    assert "3  another copytrader holds the writer lease" in out
    assert "--wait SECONDS" in out and "(default: 0, exit 3 at once)" in " ".join(out.split())
