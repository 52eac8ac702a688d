"""The simulator on its own event loop in a background thread.

The copier under test then has its event loop to itself, and ``time.thread_time()`` in the
copier's thread is the copier's CPU, not the simulator's. (Both share one interpreter: while
the simulator encodes a 10,000-bot page the copier waits for the GIL, as it would wait for
the network.) State changes from the benchmark go through :meth:`SimThread.run`, on the
simulator's loop, between passes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from copytrader.sim.haas.server import SimServer

T = TypeVar("T")


class SimThread:
    """``with SimThread(state) as sim: ... sim.url ...``; ``server``: another platform's
    simulator server for ``state`` (anything with ``start``, ``stop`` and ``url``)."""

    def __init__(self, state: Any, server: Any = None) -> None:
        self.state = state
        self.server = server if server is not None else SimServer(state)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="simulator", daemon=True)

    @property
    def url(self) -> str:
        return self.server.url

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self.server.start())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self.server.stop())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def __enter__(self) -> SimThread:
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise RuntimeError("the simulator did not start") from self._error
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()

    def cpu(self) -> float:
        """CPU seconds the simulator's thread has used so far."""
        return self.run(time.thread_time)

    def run(self, fn: Callable[[], T]) -> T:
        """Call ``fn`` on the simulator's loop and return its result."""
        assert self._loop is not None
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def call() -> None:
            try:
                done.set_result(fn())
            except BaseException as exc:
                done.set_exception(exc)

        self._loop.call_soon_threadsafe(call)
        return done.result()
