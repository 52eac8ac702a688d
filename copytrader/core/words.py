"""How values and counts read in messages, tables and CSV: in the policy's own words.

A setting value is shown as a policy file would write it (``true``, ``false``, ``null``,
``3500``, ``0.2``), never as Python prints it (``True``, ``None``, ``0.20297500000000002``);
counts take the right plural; a mistyped name gets a "did you mean".
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable

#: Significant digits a number keeps in tables, CSV and messages.
DIGITS = 10


def number(value: float, digits: int = DIGITS) -> str:
    """A number without float noise: ``0.20297500000000002`` -> ``0.202975``, ``3500.0`` ->
    ``3500``, ``1e-07`` kept; infinities and NaN as YAML writes them (``.inf``, ``.nan``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = f"{value:.{digits}g}"
    if "e" not in text and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def show(value: object) -> str:
    """``value`` as a policy file writes it: ``true``/``false``, ``null``, a number without
    float noise, a string as it is (quoted when it would read as another type)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, str):
        return _quoted(value) if _ambiguous(value) else value
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    return str(value)


def quoted(value: object) -> str:
    """``value`` in a message: a string in quotes (``'Price'``), anything else as
    :func:`show` writes it (``true``, ``null``, ``3500``)."""
    return _quoted(value) if isinstance(value, str) else show(value)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "~", ""})


def _ambiguous(text: str) -> bool:
    """Whether YAML would read ``text`` written bare as something else than this string."""
    if text.lower() in _WORDS or text != text.strip():
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def plural(count: int | float, word: str, many: str | None = None) -> str:
    """``1 request``, ``2 requests``, ``0 requests`` (``many`` for irregular plurals)."""
    return f"{number(count)} {word if count == 1 else (many or word + 's')}"


def suggest(given: str, known: Iterable[str]) -> str | None:
    """The known name closest to ``given`` (a typo), or None when none is close. Case and
    separators are forgiven: ``stopvalue`` and ``stop_value`` suggest ``stopValue``."""
    names = list(dict.fromkeys(known))
    folded = {_fold(n): n for n in names}
    if _fold(given) in folded:
        return folded[_fold(given)]
    close = difflib.get_close_matches(given, names, n=1, cutoff=0.7)
    if close:
        return close[0]
    # a known name cut short or run on: minimum -> min, pause -> paused
    prefixed = [
        n
        for n in names
        if min(len(n), len(given)) >= 3 and (n.startswith(given) or given.startswith(n))
    ]
    if len(prefixed) == 1:
        return prefixed[0]
    close = difflib.get_close_matches(_fold(given), list(folded), n=1, cutoff=0.7)
    return folded[close[0]] if close else None


def _fold(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def did_you_mean(given: str, known: Iterable[str]) -> str:
    """``"; did you mean 'stopValue'?"`` when a known name is close to ``given``, else ``""``."""
    hit = suggest(given, known)
    return f"; did you mean {hit!r}?" if hit is not None and hit != given else ""
