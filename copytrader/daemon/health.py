"""Is the daemon healthy? One pure function behind ``/healthz`` and the watchdog.

Healthy means: the database answers, and copytrader is doing its job, i.e. a pass that read
the platform finished within ``window`` seconds (or one is running and making progress).
A platform outage therefore turns the daemon unhealthy once it has lasted a while, and a pass
that stopped making progress turns it unhealthy at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from copytrader.daemon.passes import Finished


@dataclass(frozen=True)
class Limits:
    """``window``: the oldest acceptable good pass; ``stuck_after``: the longest a running
    pass may go without a finished request. Seconds."""

    window: float
    stuck_after: float


@dataclass(frozen=True)
class View:
    """What the daemon knows now (monotonic seconds)."""

    now: float
    started: float
    db_ok: bool
    stopping: bool
    running_since: float | None
    last_activity: float
    last: Finished | None
    last_good: Finished | None
    consecutive_aborts: int


def stuck(view: View, limits: Limits) -> float | None:
    """Seconds the running pass has gone without progress, when that is too long; else None."""
    if view.running_since is None:
        return None
    idle = view.now - max(view.running_since, view.last_activity)
    return idle if idle > limits.stuck_after else None


def evaluate(view: View, limits: Limits) -> tuple[bool, dict[str, Any]]:
    """``(healthy, document)``; an unhealthy document has a ``reason``."""
    doc: dict[str, Any] = {"status": "ok", "consecutive_aborted_passes": view.consecutive_aborts}
    if view.last is not None:
        doc["last_pass"] = {
            "state": view.last.state,
            "run_id": view.last.result.run_id if view.last.result else None,
            "seconds_ago": round(view.now - view.last.ended, 3),
            "duration_seconds": round(view.last.seconds, 3),
            "error": view.last.error,
        }
    if view.last_good is not None:
        doc["last_good_pass_seconds_ago"] = round(view.now - view.last_good.ended, 3)
    doc["pass_running"] = view.running_since is not None

    def bad(reason: str) -> tuple[bool, dict[str, Any]]:
        doc.update(status="unhealthy", reason=reason)
        return False, doc

    if view.stopping:
        return bad("stopping")
    if not view.db_ok:
        return bad("database unreachable")
    idle = stuck(view, limits)
    if idle is not None:
        return bad(f"pass stuck: no progress for {idle:.0f} s")
    last_aborted = view.last is not None and view.last is not view.last_good
    if view.running_since is not None and not last_aborted:
        return True, doc  # a long pass making progress is fine
    if view.last_good is None:
        if view.last is not None and view.now - view.started > limits.window:
            return bad(f"no successful pass yet: {view.last.error or view.last.state}")
        if view.now - view.started > limits.window:
            return bad("no pass yet")
        doc["status"] = "starting"
        return True, doc
    age = view.now - view.last_good.ended
    if age > limits.window:
        why = f": {view.last.error}" if last_aborted and view.last and view.last.error else ""
        return bad(f"last successful pass {age:.0f} s ago{why}")
    return True, doc
