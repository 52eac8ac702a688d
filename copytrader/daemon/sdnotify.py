"""systemd's notify protocol over a plain socket: READY, STATUS, WATCHDOG, RELOADING, STOPPING.

A message is one AF_UNIX datagram of ``KEY=VALUE`` lines sent to ``$NOTIFY_SOCKET`` (a path,
or ``@name`` for the abstract namespace). Without the variable every call is a no-op, so the
daemon runs the same way under systemd, in a terminal and in tests. A failed send is logged
and swallowed: losing a status line must never take the daemon down.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping

import structlog

log = structlog.get_logger("copytrader.daemon.sdnotify")


def _address(raw: str) -> str | bytes:
    # "@name" is Linux's abstract namespace: a leading NUL byte on the wire.
    if raw.startswith("@"):
        return b"\0" + raw[1:].encode()
    return raw


class Notifier:
    """Sends sd_notify messages to ``socket_path`` (None: sends nothing)."""

    def __init__(self, socket_path: str | None, *, watchdog_usec: int | None = None) -> None:
        self.socket_path = socket_path or None
        self.watchdog_usec = watchdog_usec if watchdog_usec and watchdog_usec > 0 else None
        self._sock: socket.socket | None = None
        self._warned = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Notifier:
        """From ``NOTIFY_SOCKET``, ``WATCHDOG_USEC`` and ``WATCHDOG_PID`` (systemd sets them).

        The watchdog applies only when ``WATCHDOG_PID`` is unset or names this process.
        """
        env = os.environ if env is None else env
        usec: int | None = None
        pid = env.get("WATCHDOG_PID", "").strip()
        if not pid or pid == str(os.getpid()):
            try:
                usec = int(env.get("WATCHDOG_USEC", "").strip() or 0) or None
            except ValueError:
                usec = None
        return cls(env.get("NOTIFY_SOCKET"), watchdog_usec=usec)

    @property
    def enabled(self) -> bool:
        """True when messages go somewhere."""
        return self.socket_path is not None

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between WATCHDOG=1 pings (half the watchdog timeout), or None."""
        return self.watchdog_usec / 2_000_000 if self.watchdog_usec else None

    def send(self, **fields: str | int) -> bool:
        """Send one message, e.g. ``send(READY=1, STATUS="...")``; True when it went out."""
        if self.socket_path is None:
            return False
        # A newline inside a value would start a new assignment: keep STATUS one line.
        text = "\n".join(f"{k}={str(v).replace(chr(10), ' ')}" for k, v in fields.items())
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.setblocking(False)
            self._sock.sendto(text.encode("utf-8"), _address(self.socket_path))
        except OSError as exc:
            if not self._warned:  # once: a gone socket would otherwise log every ping
                log.warning("sd_notify failed", error=exc.strerror or str(exc))
                self._warned = True
            return False
        return True

    def ready(self, status: str) -> bool:
        """READY=1 with a STATUS line."""
        return self.send(READY=1, STATUS=status)

    def status(self, status: str) -> bool:
        """A STATUS= line (what ``systemctl status`` shows)."""
        return self.send(STATUS=status)

    def watchdog(self) -> bool:
        """WATCHDOG=1: the service is alive."""
        return self.send(WATCHDOG=1)

    def reloading(self, status: str) -> bool:
        """RELOADING=1 with the CLOCK_MONOTONIC timestamp systemd >= 253 asks for."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.send(RELOADING=1, MONOTONIC_USEC=usec, STATUS=status)

    def stopping(self, status: str) -> bool:
        """STOPPING=1 with a STATUS line."""
        return self.send(STOPPING=1, STATUS=status)

    def close(self) -> None:
        """Close the socket (sending again reopens it)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
