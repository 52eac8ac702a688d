"""``python -m copytrader.sim``: run the partner API simulator."""

from __future__ import annotations

import sys

from copytrader.sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
