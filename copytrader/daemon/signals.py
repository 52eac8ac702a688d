"""Unix signals for the daemon: SIGTERM/SIGINT stop it, SIGHUP reloads the policies.

Handlers run on the event loop (``loop.add_signal_handler``), so they may touch asyncio state
directly. They are removed on exit, leaving the loop as it was found (the demo and tests run
the daemon inside a larger program).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from types import TracebackType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
RELOAD_SIGNAL = signal.SIGHUP


class SignalHandlers:
    """Install with ``with SignalHandlers(on_stop, on_reload):``; ``on_stop`` gets the name."""

    def __init__(self, on_stop: Callable[[str], None], on_reload: Callable[[], None]) -> None:
        self.on_stop = on_stop
        self.on_reload = on_reload
        self._installed: list[signal.Signals] = []

    def __enter__(self) -> SignalHandlers:
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            self._add(loop, sig, self.on_stop, sig.name)
        self._add(loop, RELOAD_SIGNAL, self.on_reload)
        return self

    def _add(self, loop: asyncio.AbstractEventLoop, sig: signal.Signals,
             callback: Callable[..., None], *args: object) -> None:
        # Not on the main thread (or not on Unix) signals cannot be handled: run without.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, callback, *args)
            self._installed.append(sig)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        loop = asyncio.get_running_loop()
        for sig in self._installed:
            loop.remove_signal_handler(sig)
        self._installed.clear()
