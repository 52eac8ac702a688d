"""sd_notify over a real AF_UNIX datagram socket: a path and the abstract namespace."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

from copytrader.daemon.sdnotify import Notifier


def receive(sock: socket.socket) -> dict[str, str]:
    sock.settimeout(2)
    data = sock.recv(4096).decode()
    return dict(line.split("=", 1) for line in data.splitlines())


def test_messages_reach_a_socket_path(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        n = Notifier.from_env({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "3000000"})
        assert n.enabled and n.watchdog_interval == 1.5
        assert n.ready("ready; first pass starting")
        assert receive(sock) == {"READY": "1", "STATUS": "ready; first pass starting"}
        assert n.status("line one\nline two")
        assert receive(sock) == {"STATUS": "line one line two"}
        assert n.watchdog()
        assert receive(sock) == {"WATCHDOG": "1"}
        assert n.reloading("reloading")
        got = receive(sock)
        assert got["RELOADING"] == "1" and int(got["MONOTONIC_USEC"]) > 0
        assert n.stopping("bye")
        assert receive(sock) == {"STOPPING": "1", "STATUS": "bye"}
        n.close()


def test_abstract_namespace_socket() -> None:
    name = f"copytrader-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        n = Notifier.from_env({"NOTIFY_SOCKET": "@" + name})
        assert n.watchdog_interval is None
        assert n.ready("ok")
        assert receive(sock)["READY"] == "1"
        n.close()


def test_without_notify_socket_nothing_is_sent() -> None:
    n = Notifier.from_env({})
    assert not n.enabled
    assert n.ready("ok") is False and n.watchdog() is False


def test_watchdog_for_another_pid_is_ignored() -> None:
    env = {"NOTIFY_SOCKET": "/nonexistent", "WATCHDOG_USEC": "1000000",
           "WATCHDOG_PID": str(os.getpid() + 1)}
    assert Notifier.from_env(env).watchdog_interval is None
    env["WATCHDOG_PID"] = str(os.getpid())
    assert Notifier.from_env(env).watchdog_interval == 0.5


def test_a_gone_socket_does_not_raise(tmp_path: Path) -> None:
    n = Notifier(str(tmp_path / "missing"))
    assert n.status("x") is False
    n.close()
