"""The plan: what a reconcile pass will do, as immutable values.

:func:`build` takes the policies and one consistent reading of the platform (a
:class:`World`) and returns a :class:`Plan`. The plan printed by ``copytrader plan`` is the
object the executor runs (its value types are in :mod:`copytrader.core.actions`).
Each follower's actions run in order (stop before delete, clone before start); different
followers are independent.

Rules (level-triggered: every pass starts from what it reads, so any midpoint converges):

- a listed follower with no clone gets one (``clone``, then ``start`` if it should run);
- a clone request whose answer was lost left an intent: a bot of that user, of the master's
  type, exchange and market, created after the intent and claimed by nobody, is
  ``adopt``-ed instead of cloning again;
- a bot of the follower carrying copytrader's tag for that master and follower
  (:mod:`copytrader.core.tags`, platforms without a master link) is ``adopt``-ed as its
  clone whenever the follower has none: never cloned twice, never held;
- a listed follower with no link that already has look-alike bots is an adopt candidate
  (held, per ``on_existing``); a linked follower's other look-alikes are suspected
  duplicates (noted, stopped under ``on_duplicate: stop``) (:mod:`copytrader.core.duplicates`);
- a clone whose settings differ is ``edit``-ed for editable keys; a change of a key that
  ``/bots/edit`` refuses follows ``on_immutable_change`` (``recreate``: stop, delete, clone,
  start; ``flag``: a note, no write) (:mod:`copytrader.core.converge`);
- a clone changed by someone else since copytrader last wrote it is noted as ``drift`` (and
  put back by the edit);
- a follower no longer listed follows ``on_follower_removed`` (stop, delete, or ``release``:
  forget the link and leave the bot alone);
- under ``propagation: auto`` a follower the platform can carry is cloned with
  ``followUpdates: true`` and never edited; a clone of the other class follows
  ``on_immutable_change`` (:mod:`copytrader.core.propagation`);
- a master that is gone counts as stopped; nothing is cloned for it;
- when the sweep looks truncated (``World.suspicious``) a clone missing from it is not
  treated as gone: nothing is re-cloned or deleted on the strength of its absence;
- a clone that broke its follower's ``risk:`` rules is held stopped while the master runs
  (:mod:`copytrader.core.risk`); what the guard must remember is ``Plan.risk``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType

from copytrader.core import converge, diff, duplicates, propagation, removal, risk, tags
from copytrader.core import desired as desired_mod
from copytrader.core.actions import (
    HELD_REASONS,
    WRITES,
    Action,
    FollowerPlan,
    Kind,
    Note,
    Plan,
    Remember,
    World,
)
from copytrader.core.desired import DesiredClone
from copytrader.core.diff import Change
from copytrader.core.model import Bot, Script, Status
from copytrader.core.policy import Policy, RiskRules
from copytrader.core.records import Link

# The values live in core.actions; they are part of this module's interface too.
__all__ = [
    "ADOPT_CLOCK_SLACK",
    "HELD_REASONS",
    "WRITES",
    "Action",
    "Change",
    "FollowerPlan",
    "Kind",
    "Note",
    "Plan",
    "World",
    "build",
    "sweep_suspicious",
]

ADOPT_CLOCK_SLACK = duplicates.ADOPT_CLOCK_SLACK
_LOST_ANSWER = "a clone request's answer was lost; found its bot"
_MARKED = "carries copytrader's tag for this master and follower: its clone"


def sweep_suspicious(bots: Mapping[str, Bot], links: Iterable[Link]) -> bool:
    """True when the sweep misses so many known clones that it is more likely truncated.

    All linked clones missing (at least one known), or more than half of ten or more.
    """
    known = [link.bot_id for link in links if link.bot_id]
    if not known:
        return False
    missing = sum(1 for b in known if b not in bots)
    return missing == len(known) or (len(known) >= 10 and missing * 2 > len(known))


def build(policies: Sequence[Policy], world: World) -> Plan:
    """The plan that converges the platform to ``policies`` from ``world``."""
    planner = _Planner(world, policies)
    for policy in policies:
        planner.policy(policy)
    planner.duplicates()
    return Plan(tuple(planner.followers), tuple(planner.notes), tuple(planner.risk))


class _Planner:
    def __init__(self, world: World, policies: Sequence[Policy]) -> None:
        self.world = world
        self.followers: list[FollowerPlan] = []
        self.notes: list[Note] = []
        self.by_master: dict[str, list[Link]] = {}
        self.claimed: set[str] = set()  # bots that are someone's clone (or master) this pass
        for link in world.links.values():
            self.by_master.setdefault(link.master, []).append(link)
            if link.bot_id:
                self.claimed.add(link.bot_id)
        self.claimed.update(p.master for p in policies)
        self.strays = duplicates.Strays(world.bots.values(), self.claimed | world.reserved)
        self.candidates: set[str] = set()  # strays held as adopt candidates
        self.linked: list[tuple[Policy, Bot, str]] = []  # listed followers, for duplicates()
        self.risk: list[Remember] = []  # risk states to store before the writes

    def policy(self, policy: Policy) -> None:
        master = self.world.bots.get(policy.master)
        script = self.world.catalogue.script(master.type) if master else None
        links = self.by_master.get(policy.master, [])
        if master is None or script is None:
            self._master_missing(policy, master, links)
            return
        self.claimed.add(master.bot_id)
        desired_of = desired_mod.Computer(desired_mod.base(policy, master, script))
        self.carrier = propagation.Classifier(policy, master, script)
        listed = set()
        for follower in policy.followers:
            listed.add(follower.user)
            want = desired_of(follower)
            link = self.world.links.get((policy.master, follower.user))
            rules = policy.risk(follower)
            self.followers.append(self._listed(policy, master, script, want, link, rules))
        for link in links:
            if link.follower not in listed:
                self._removed(policy, master, link)

    def _master_missing(self, policy: Policy, master: Bot | None, links: list[Link]) -> None:
        detail = (
            "master bot not found on the platform"
            if master is None
            else f"bot type {master.type!r} not in the script catalogue"
        )
        self.notes.append(Note("master_missing", policy.master, bot=policy.master, detail=detail))
        for link in links:
            clone = self.world.bots.get(link.bot_id) if link.bot_id else None
            actions: tuple[Action, ...] = ()
            follower = policy.follower(link.follower)
            if clone is not None and follower is not None:
                want = desired_mod.status(policy, follower, None)
                if want is Status.STOPPED and clone.status is Status.RUNNING:
                    actions = (
                        Action(
                            Kind.STOP,
                            policy.master,
                            link.follower,
                            clone.bot_id,
                            reason="master gone",
                        ),
                    )
            self.followers.append(
                FollowerPlan(policy.master, link.follower, actions, None, clone, policy.source)
            )

    def _listed(
        self,
        policy: Policy,
        master: Bot,
        script: Script,
        want: DesiredClone,
        link: Link | None,
        rules: RiskRules,
    ) -> FollowerPlan:
        pre: list[Action] = []
        drift: Note | None = None
        m, f = policy.master, want.follower
        self.linked.append((policy, master, f))  # a held follower's strays are all candidates
        clone = self.world.bots.get(link.bot_id) if link is not None and link.bot_id else None
        if clone is None and link is not None and link.bot_id and self.world.suspicious:
            self.notes.append(
                Note(
                    "clone_unseen",
                    m,
                    f,
                    link.bot_id,
                    detail="clone missing from a sweep that looks truncated; not re-cloned",
                )
            )
            return FollowerPlan(m, f, (), want, None, policy.source)
        ours = None if clone is not None else tags.marked(self.strays.every(f, self.claimed), m, f)
        if ours is not None:
            lost = link is not None and link.intent_at is not None and not link.bot_id
            clone = self._adopt(pre, m, f, ours, _LOST_ANSWER if lost else _MARKED)
        elif link is None and (found := self.strays.of(f, master, self.claimed)):
            choice = duplicates.existing(policy, f, master, found)
            if isinstance(choice, Note):  # held until a person adopts one (or the policy)
                self.notes.append(choice)
                self.candidates.update(choice.bots)
                return FollowerPlan(m, f, (), want, None, policy.source)
            if choice is not None:
                clone = self._adopt(pre, m, f, choice, "on_existing: adopt: its one look-alike")
        elif link is not None and link.bot_id:
            if clone is None:
                self.notes.append(
                    Note(
                        "clone_missing",
                        m,
                        f,
                        link.bot_id,
                        detail="the clone is gone from the platform; cloning again",
                    )
                )
            else:
                drift = self._drift(m, f, script, master, clone, link)
        elif link is not None and link.intent_at is not None:
            lost_bot = duplicates.lost_answer(
                self.strays.of(f, master, self.claimed), link.intent_at
            )
            if lost_bot is None and self._pending(link):
                self.notes.append(
                    Note(
                        "clone_pending",
                        m,
                        f,
                        detail="a clone request got no answer (it timed out, or copytrader "
                        "stopped) and the platform may still make the bot; not cloned again "
                        "before " + str(link.pending_until),
                    )
                )
                return FollowerPlan(m, f, (), want, None, policy.source)
            if lost_bot is not None:
                clone = self._adopt(pre, m, f, lost_bot, _LOST_ANSWER)
        want = self._guard(rules, master, want, clone)
        carrier = self.carrier(want)
        if clone is None:
            actions = propagation.clone_steps(policy, want, carrier, reason="no clone yet")
            return FollowerPlan(m, f, actions, want, None, policy.source)
        steps, flagged, notes = converge.steps(policy, script, want, clone, carrier, master)
        if drift is not None and (lasting := _lasting(drift, notes)) is not drift:
            self.notes[self.notes.index(drift)] = lasting
        self.notes.extend(notes)
        return FollowerPlan(
            m, f, (*pre, *steps), want, clone, policy.source, drifted=drift is not None,
            flagged=flagged,
        )

    def _drift(
        self, m: str, f: str, script: Script, master: Bot, clone: Bot, link: Link
    ) -> Note | None:
        """The ``drift`` note (also added to the notes) when ``clone`` was changed by someone
        else since copytrader last wrote it, else None."""
        changed = (
            propagation.drift(script, link.applied, master.settings, clone.settings)
            if clone.master_bot_id and clone.master_bot_id == master.bot_id
            else diff.drift(script, link.applied, clone.settings)
        )
        if not changed:
            return None
        note = Note(
            "drift",
            m,
            f,
            clone.bot_id,
            MappingProxyType(changed),
            detail="clone changed by someone else since copytrader last wrote it",
        )
        self.notes.append(note)
        return note

    def _guard(
        self, rules: RiskRules, master: Bot, want: DesiredClone, clone: Bot | None
    ) -> DesiredClone:
        """The risk guard's verdict on this clone: remembered when it changed; a held
        clone's desired status is stopped, whatever the master's."""
        before = self.world.risk.get((master.bot_id, want.follower))
        if before is None and not rules.any:
            return want  # the common case: no rules, nothing remembered
        now = self.world.now or datetime.now(UTC)
        v = risk.judge(
            rules, before, master=master, follower=want.follower, clone=clone,
            want=want.status, now=now,
        )  # fmt: skip
        if v.changed:
            self.risk.append(Remember(v.state, v.event, before))
        if v.held is not None:
            self.notes.append(v.held)
        if v.reason is None:
            return want
        return dataclasses.replace(want, status=Status.STOPPED, held=v.reason)

    def _adopt(self, into: list[Action], m: str, f: str, bot: Bot, reason: str) -> Bot:
        """Take ``bot`` as ``f``'s clone of ``m`` this pass (an ``adopt`` action, no write)."""
        self.claimed.add(bot.bot_id)
        into.append(Action(Kind.ADOPT, m, f, bot.bot_id, reason=reason))
        return bot

    def duplicates(self) -> None:
        """After every policy is planned: a linked follower's strays that nothing claimed
        are suspected duplicates (each reported under one master only), stopped under
        ``on_duplicate: stop``; each stop is its own sequence, so one failure holds no other."""
        taken = self.claimed | self.candidates
        for policy, master, f in self.linked:
            found = self.strays.of(f, master, taken)
            if not found:
                continue
            taken.update(b.bot_id for b in found)
            notes, stops = duplicates.suspected(policy, f, master, found)
            self.notes.extend(notes)
            self.followers.extend(
                FollowerPlan(policy.master, f, (stop,), None, None, policy.source) for stop in stops
            )

    def _pending(self, link: Link) -> bool:
        now = self.world.now
        return link.pending_until is not None and now is not None and now < link.pending_until

    def _removed(self, policy: Policy, master: Bot, link: Link) -> None:
        m, f = policy.master, link.follower
        clone = self.world.bots.get(link.bot_id) if link.bot_id else None
        actions: list[Action] = []
        if clone is None and not link.bot_id and link.intent_at is not None:
            lost = tags.marked(
                self.strays.every(f, self.claimed), m, f
            ) or duplicates.lost_answer(self.strays.of(f, master, self.claimed), link.intent_at)
            clone = self._adopt(actions, m, f, lost, _LOST_ANSWER) if lost is not None else None
        if clone is None and link.bot_id and self.world.suspicious:
            return  # absent from a doubtful sweep: decide nothing
        actions.extend(removal.steps(policy, link, clone))
        self.followers.append(FollowerPlan(m, f, tuple(actions), None, clone, policy.source))


def _lasting(drift: Note, notes: list[Note]) -> Note:
    """``drift`` marked as a standing condition when the clone's steps leave a drifted key
    as it is (``on_immutable_change: flag`` of a key /bots/edit refuses, every key of a
    platform-carried clone): nothing repairs it, so it is audited once while it lasts, not
    every pass. A drift the steps repair (an edit, a new clone) is an event of its own."""
    flagged = {k for n in notes if n.action == "immutable_flagged" for k in n.changes}
    if flagged.isdisjoint(drift.changes):
        return drift
    return dataclasses.replace(drift, lasting=True)
