"""``copytrader demo``: simulator + daemon + example policies on embedded SQLite."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="simulator + daemon + example policies on embedded SQLite")
    demo.add_argument("--dir", default=".demo", help="folder for the demo's policies and database")
    demo.add_argument(
        "--seconds", type=float, default=0, help="stop after this long (0: until Ctrl-C)"
    )
    demo.add_argument(
        "--headless", action="store_true", help="no live view; print a summary at the end"
    )
    demo.add_argument(
        "--platform",
        choices=("haas", "botprimex"),
        default="haas",
        help="which platform's world to run (default haas)",
    )
    demo.set_defaults(sync_handler=run)


def run(args: argparse.Namespace) -> int:
    from copytrader.cli import demo

    return demo.run(args)
