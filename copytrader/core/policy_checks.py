"""A policy's checks against the platform: setting keys and values against the bot type's
script, locked and fixed keys, limits, and that every follower exists on the master's
exchange. Each finding is a :class:`~copytrader.core.policy.Problem` at a document path.

Structural problems (types, unknown policy keys, duplicates) are the loader's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from copytrader.core import words
from copytrader.core.model import Bot, Bounds, Scalar, Script, SettingType, User
from copytrader.core.policy import DocPath, Layer, Limit, Policy, Problem


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def unknown_setting(script: Script, key: str) -> str:
    """``unknown setting 'stopValeu' for bot type spot_grid; did you mean 'stopValue'?``
    followed by the settings the bot type has."""
    keys = [s.key for s in script.settings]
    return (
        f"unknown setting {key!r} for bot type {script.type}{words.did_you_mean(key, keys)} "
        f"(its settings: {', '.join(sorted(keys, key=str.lower))})"
    )


def check_value(script: Script, key: str, value: Scalar) -> str | None:
    """Why ``value`` is not a legal value of setting ``key`` of ``script``, or None if it is.
    Values are written as a policy file writes them (``true``, ``null``, ``'Price'``)."""
    spec = script.spec(key)
    if spec is None:
        return unknown_setting(script, key)
    shown = words.quoted(value)
    if spec.type is SettingType.NUMBER:
        if not _is_number(value):
            return f"{key}: expected a number, got {shown}"
    elif spec.type is SettingType.BOOLEAN:
        if not isinstance(value, bool):
            return f"{key}: expected true or false, got {shown}"
    elif spec.type is SettingType.OPTION:
        if not isinstance(value, str) or (spec.options and value not in spec.options):
            hint = words.did_you_mean(value, spec.options) if isinstance(value, str) else ""
            return f"{key}: {shown} is not one of {', '.join(spec.options)}{hint}"
    elif not isinstance(value, str):
        return f"{key}: expected a string, got {shown}"
    if key == "investmentAmount" and _is_number(value) and float(value) <= 0:  # type: ignore[arg-type]
        return f"{key}: must be above zero, got {shown}"
    if spec.bounds is not None and _is_number(value):
        return spec.bounds.refusal(key, value)  # type: ignore[arg-type]
    return None


def _fixed(script: Script, key: str) -> bool:
    """Whether ``key`` always follows the master (a policy may not change it)."""
    spec = script.spec(key)
    return spec is not None and not spec.overridable


def overlap_problems(file: str, layer: Layer, at: DocPath) -> list[Problem]:
    """A problem for each key both overridden and scaled in ``layer`` (sorted by key).

    An override is final for its own layer's scale (and the defaults' override-then-scale is
    too easy to misread), so one layer may do one or the other to a key, not both. Needs no
    platform: the loader reports it too, with positions.
    """
    return [
        Problem(
            file,
            f"{key} is both overridden and scaled in the same layer: keep one of the two",
            (*at, "scale", key),
        )
        for key in sorted(set(layer.overrides) & set(layer.scale))
    ]


def _check_layer(
    policy: Policy, script: Script, layer: Layer, at: DocPath, problems: list[Problem]
) -> None:
    file = policy.source.path
    problems.extend(overlap_problems(file, layer, at))
    for key, value in layer.overrides.items():
        where = (*at, "overrides", key)
        if key in policy.locked:
            problems.append(Problem(file, f"{key} is locked: it cannot be overridden", where))
            continue
        if _fixed(script, key):
            problems.append(
                Problem(file, f"{key} follows the master: it cannot be overridden", where)
            )
            continue
        reason = check_value(script, key, value)
        if reason:
            problems.append(Problem(file, reason, where))
    for key, factor in layer.scale.items():
        where = (*at, "scale", key)
        spec = script.spec(key)
        if key in policy.locked:
            problems.append(Problem(file, f"{key} is locked: it cannot be scaled", where))
        elif _fixed(script, key):
            problems.append(Problem(file, f"{key} follows the master: it cannot be scaled", where))
        elif spec is None:
            problems.append(Problem(file, unknown_setting(script, key), where))
        elif spec.type is not SettingType.NUMBER:
            problems.append(
                Problem(
                    file,
                    f"{key} is of type {spec.type.value}, not a number: it cannot be scaled",
                    where,
                )
            )
        elif not _is_number(factor) or factor <= 0:
            problems.append(
                Problem(
                    file,
                    f"scale of {key} must be a number above zero, got {words.show(factor)}",
                    where,
                )
            )


def _bounds_problem(file: str, key: str, limit: Limit, bounds: Bounds | None) -> Problem | None:
    """A limit whose min or max the platform would refuse as a value of ``key``."""
    if bounds is None:
        return None
    for side, value in (("min", limit.min), ("max", limit.max)):
        if value is not None and (reason := bounds.refusal(key, value)) is not None:
            return Problem(file, f"limits of {reason}", ("limits", key, side))
    return None


def validate(
    policy: Policy,
    *,
    master: Bot | None,
    script: Script | None,
    users: Mapping[str, User],
) -> list[Problem]:
    """Every problem with ``policy`` that needs the platform to see.

    ``master`` is the master bot as read (None: not found), ``script`` its type's catalogue
    entry, ``users`` the platform's users by id. Structural problems (types, unknown policy
    keys, duplicates) are the loader's; this checks setting keys and values against the
    script, locked keys, and that every follower exists on the master's exchange.
    """
    file = policy.source.path
    if master is None:
        return [Problem(file, f"master bot {policy.master} not found on the platform", ("master",))]
    if script is None:
        return [
            Problem(
                file, f"master bot type {master.type!r} is not in the script catalogue", ("master",)
            )
        ]
    problems: list[Problem] = []
    for key in sorted(policy.locked):
        if script.spec(key) is None:
            problems.append(Problem(file, unknown_setting(script, key), ("locked", key)))
    _check_layer(policy, script, policy.defaults, ("defaults",), problems)
    for key, limit in policy.limits.items():
        spec = script.spec(key)
        if spec is None:
            problems.append(Problem(file, unknown_setting(script, key), ("limits", key)))
        elif spec.type is not SettingType.NUMBER:
            problems.append(
                Problem(
                    file,
                    f"{key} is of type {spec.type.value}: only numbers can have limits",
                    ("limits", key),
                )
            )
        elif _fixed(script, key):
            problems.append(
                Problem(file, f"{key} follows the master: it cannot be limited", ("limits", key))
            )
        elif found := _bounds_problem(file, key, limit, spec.bounds):
            problems.append(found)
        elif limit.min is not None and limit.max is not None and limit.min > limit.max:
            problems.append(
                Problem(
                    file,
                    f"limits of {key}: min {limit.min:g} is above max {limit.max:g}",
                    ("limits", key),
                )
            )
        elif key == "investmentAmount" and limit.min is not None and limit.min <= 0:
            problems.append(
                Problem(file, f"limits of {key}: min must be above zero", ("limits", key, "min"))
            )
    for i, follower in enumerate(policy.followers):
        _check_layer(policy, script, follower.own, ("followers", i), problems)
        user = users.get(follower.user)
        where = ("followers", i, "user")
        if user is None:
            problems.append(
                Problem(file, f"follower user {follower.user} not found on the platform", where)
            )
        elif user.refused:
            problems.append(Problem(file, f"follower {follower.user}: {user.refused}", where))
        elif (refusal := user.exchange_refusal(master.exchange_id)) is not None:
            problems.append(Problem(file, refusal, where))
        elif follower.user == master.user_id:
            problems.append(
                Problem(
                    file,
                    f"follower user {follower.user} owns the master bot",
                    ("followers", i, "user"),
                )
            )
    return problems
