"""The audit trail's vocabulary: every ``action`` an audit event may have, with what it means.

``copytrader audit --help`` lists them and ``audit --action`` accepts these (and any action
already in the database, so an event recorded by a newer copytrader stays findable). A new
kind of audit event is added here in the same commit that emits it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: action -> what it records, in the order ``audit --help`` lists them.
ACTIONS: Mapping[str, str] = MappingProxyType(
    {
        # platform writes
        "clone": "a clone was made (platform write)",
        "edit": "a clone's settings were edited (platform write)",
        "start": "a clone was started (platform write)",
        "stop": "a clone was stopped (platform write)",
        "delete": "a clone was deleted (platform write)",
        # decisions that write no bot
        "adopt": "an existing bot was taken over as a follower's clone",
        "release": "a removed follower's clone was forgotten and left running",
        "drift": "a clone was found changed by someone else",
        "policy_invalid": "a policy file is invalid; nothing of it is applied",
        "immutable_flagged": "a key /bots/edit refuses changed under on_immutable_change: flag",
        "master_missing": "a policy's master bot is not on the platform",
        "clone_missing": "a clone copytrader made is gone from the platform",
        "clone_unseen": "a clone request's bot has not shown up yet",
        "clone_pending": "a clone request may still be in progress on the platform",
        "status_unknown": "a bot's status could not be read",
        "adopt_candidate": "a follower with no clone already has look-alike bots (held)",
        "duplicate_suspected": "a follower's look-alike bot copytrader did not make",
        "sweep_suspicious": "the bot sweep missed most known clones; nothing was deleted",
        "pass_aborted": (
            "a pass ended early (the platform could not be read, or the database failed); "
            "its detail says whether it wrote"
        ),
        "account_unread": "BotPrimeX: a follower account could not be read this pass; its "
        "followers were left as they are",
        # the writer lease
        "lease_acquired": "this process took the writer lease (detail: the epoch)",
        "lease_lost": "this process lost the writer lease and stepped down",
        "lease_released": "this process gave the writer lease up on a clean stop",
        # risk guards and notifications
        "risk_stop": "a clone was stopped by a risk rule and is held stopped",
        "risk_breach": "a risk rule was breached (on_breach: notify)",
        "risk_resume": "a person resumed a risk-stopped clone",
        "write_failing": "a follower's write failed in 3 passes in a row",
        "platform_down": "3 passes in a row could not read the platform",
        "recovered": "a write_failing or platform_down episode ended",
    }
)

#: The actions that notify unless ``COPYTRADER_NOTIFY_EVENTS`` says otherwise.
NOTIFY_DEFAULT = (
    "risk_stop",
    "risk_breach",
    "duplicate_suspected",
    "policy_invalid",
    "lease_acquired",
    "lease_lost",
    "write_failing",
    "platform_down",
)
