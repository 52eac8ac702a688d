"""Unique id prefixes (as git takes a commit's): cli.context.resolve."""

from __future__ import annotations

import pytest

from copytrader.cli import context

IDS = ["6dafad4e", "6dbf0001", "bedc8bb4"]


def test_an_id_or_its_unique_prefix_resolves() -> None:
    assert context.resolve("master", "bedc8bb4", IDS) == "bedc8bb4"
    assert context.resolve("master", "b", IDS) == "bedc8bb4"
    assert context.resolve("master", "6da", IDS) == "6dafad4e"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("6d", "'6d' is ambiguous: 6dafad4e, 6dbf0001 all start with it; give more of it"),
        ("ff", "no master starts with 'ff'"),
        ("", "no master starts with ''"),
    ],
)
def test_no_match_or_an_ambiguous_prefix_is_refused_naming_it(given: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message + "$"):
        context.resolve("master", given, IDS)
