"""Normalise setting values so that equal meanings compare equal.

The platform is sloppy in ways that must not cause edit loops: a number may arrive as the
string ``"0"``, a key may be absent (meaning the script's default), a float may carry
binary noise after a scale (``100 * 0.3``). Every comparison in the core goes through
:func:`value` first, so a pass over a converged platform finds nothing to change.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from copytrader.core.model import Scalar, Script, SettingSpec, SettingType

#: Decimal places kept for numbers: far below any price or amount step, far above float noise.
DECIMALS = 9


def number(raw: object) -> int | float | None:
    """``raw`` as a number (integral values as int), or None when it is not one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        x = raw
    elif isinstance(raw, str):
        try:
            x = float(raw.strip())
        except ValueError:
            return None
    else:
        return None
    if not math.isfinite(x):
        return None
    x = round(x, DECIMALS)
    if x.is_integer() and abs(x) < 2**53:
        return int(x)
    return x


def boolean(raw: object) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    return None


def value(spec: SettingSpec | None, raw: Scalar) -> Scalar:
    """``raw`` in the canonical form for its setting type; unconvertible values stay as given.

    Keeping an unconvertible value (rather than raising) means a clone holding garbage simply
    differs from its desired value and gets edited back.
    """
    if spec is None:
        return raw
    if spec.type is SettingType.NUMBER:
        n = number(raw)
        return raw if n is None else n
    if spec.type is SettingType.BOOLEAN:
        b = boolean(raw)
        return raw if b is None else b
    if raw is None:
        return ""
    if isinstance(raw, float | int) and not isinstance(raw, bool):
        # An option or string sent as a number ("2" vs 2): compare as text.
        n = number(raw)
        return str(n if n is not None else raw)
    return raw if isinstance(raw, str) else str(raw)


def settings(script: Script, raw: Mapping[str, Scalar]) -> dict[str, Scalar]:
    """Every key of ``script``, each normalised; an absent key takes the script's default.

    Keys the script does not define are dropped: copytrader manages only catalogue keys.
    """
    out: dict[str, Scalar] = {}
    for spec in script.settings:
        out[spec.key] = value(spec, raw.get(spec.key, spec.default))
    return out
