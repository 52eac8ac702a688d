"""Values, counts and suggestions in the policy's own words (core.words): tables of cases."""

from __future__ import annotations

import pytest

from copytrader.core import words


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (3500, "3500"),
        (3500.0, "3500"),
        (0.20297500000000002, "0.202975"),
        (0.1 + 0.2, "0.3"),
        (1e-07, "1e-07"),
        (-2.5, "-2.5"),
        (float("inf"), ".inf"),
        (float("-inf"), "-.inf"),
        (float("nan"), ".nan"),
        ("Price", "Price"),
        ("true", "'true'"),
        ("3500", "'3500'"),
        ("", "''"),
        (" padded", "' padded'"),
        ("it's", "it's"),
        ([1, True, None], "[1, true, null]"),
        ({"a": False}, "{a: false}"),
    ],
)
def test_show_writes_values_as_a_policy_file_would(value: object, shown: str) -> None:
    assert words.show(value) == shown


@pytest.mark.parametrize(
    ("value", "quoted"),
    [("Price", "'Price'"), ("it's", "'it''s'"), (True, "true"), (None, "null"), (2.0, "2")],
)
def test_quoted_puts_strings_in_quotes_only(value: object, quoted: str) -> None:
    assert words.quoted(value) == quoted


@pytest.mark.parametrize(
    ("count", "word", "many", "text"),
    [
        (0, "request", None, "0 requests"),
        (1, "request", None, "1 request"),
        (2, "request", None, "2 requests"),
        (1, "policy file", None, "1 policy file"),
        (3, "policy file", None, "3 policy files"),
        (1, "drifted", "drifted", "1 drifted"),
        (4, "drifted", "drifted", "4 drifted"),
        (1.5, "clone", None, "1.5 clones"),
    ],
)
def test_plural(count: float, word: str, many: str | None, text: str) -> None:
    assert words.plural(count, word, many) == text


@pytest.mark.parametrize(
    ("given", "known", "suggestion"),
    [
        ("stopValeu", ["stopValue", "stopLoss", "stopExit"], "stopValue"),
        ("stopvalue", ["stopValue", "stopLoss"], "stopValue"),
        ("stop_value", ["stopValue", "stopLoss"], "stopValue"),
        ("folowers", ["master", "followers", "locked"], "followers"),
        ("overide", ["user", "overrides", "scale", "paused"], "overrides"),
        ("pause", ["user", "overrides", "scale", "paused"], "paused"),
        ("minimum", ["min", "max"], "min"),
        ("delet", ["stop", "delete", "keep"], "delete"),
        ("arithmetic", ["Arithmetic", "Geometric"], "Arithmetic"),
        ("edits", ["clone", "edit", "start"], "edit"),
        ("colour", ["gridCount", "gridMode", "symbol"], None),
        ("x", ["min", "max"], None),
        ("mi", ["min", "max"], "min"),
    ],
)
def test_suggest_the_closest_known_name(
    given: str, known: list[str], suggestion: str | None
) -> None:
    assert words.suggest(given, known) == suggestion
    expected = f"; did you mean {suggestion!r}?" if suggestion else ""
    assert words.did_you_mean(given, known) == expected


def test_no_suggestion_of_the_name_itself() -> None:
    assert words.did_you_mean("edit", ["edit", "clone"]) == ""
