"""``copytrader sim``: the partner API simulator."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from copytrader.sim import cli as sim_cli

    sim = sub.add_parser("sim", help="run the partner API simulator")
    sim_cli.add_arguments(sim)
    sim.set_defaults(sync_handler=run)


def run(args: argparse.Namespace) -> int:
    from copytrader.sim import cli as sim_cli

    return sim_cli.run_from_args(args)
