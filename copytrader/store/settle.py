"""What a new writer says of the writes an earlier process left ``pending``: the process
stopped after recording a write (its ``pending`` event is committed before the request is
sent) and before recording its outcome, so whether the request left, and whether the
platform did it, is not known. :meth:`copytrader.store.repo.SqlStore.close_open_runs`
settles such an event ``unknown`` with the error below, which says that much and what the
next passes do about it (they read the platform and converge from what they find). The
process may also be alive but paused past its writer lease: the error says so too."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from copytrader.core.records import AuditEvent

#: The error of a write left ``pending``. Its process may have died before sending it, while
#: the platform worked on it, or after the answer came back: only what the next passes do
#: about it is known.
INTERRUPTED = (
    "interrupted: the copytrader process that recorded this write stopped (or lost the "
    "writer lease) before recording its outcome; whether it reached the platform is unknown. "
    "The next pass reads the platform and sends it again only if the bot still differs from "
    "its desired state"
)
#: The same for a clone request, whose intent stays on its link (see ``close_open_runs``).
INTERRUPTED_CLONE = (
    "interrupted: the copytrader process that recorded this clone request stopped (or lost "
    "the writer lease) before recording its outcome; whether it reached the platform is "
    "unknown. The request stays on record: the next passes adopt the bot it made if one "
    "appears, and request a clone again only if none has appeared by the end of the wait "
    "for it"
)


def interrupted(action: str) -> str:
    """The error of a ``pending`` ``action`` settled ``unknown``."""
    return INTERRUPTED_CLONE if action == "clone" else INTERRUPTED


def unknown(row: Any) -> AuditEvent:
    """The audit event of a ``pending`` row as :meth:`SqlStore.close_open_runs` settles it."""
    return AuditEvent(
        ts=row["ts"],
        run_id=row["run_id"],
        action=row["action"],
        master=row["master"],
        follower=row["follower"],
        bot=row["bot"],
        changes=MappingProxyType({k: (v[0], v[1]) for k, v in (row["changes"] or {}).items()}),
        outcome="unknown",
        error=interrupted(row["action"]),
        detail=row["detail"],
    )
