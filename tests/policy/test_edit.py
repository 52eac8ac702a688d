"""The text edits of ``copytrader follower``: only the follower's lines change.

Each edit is checked line by line against the original (every other line byte for byte,
in place) and by reading the result with the policy loader (the follower as asked, every
other key and follower as it was).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from copytrader.core.policy import Policy, PolicySource
from copytrader.policy import edit, loader
from tests.policy.commented import COMMENTED, F1, F2, F3, F4
from tests.policy.world import ETH_GRID


def lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def inserted(before: str, after: str) -> tuple[int, list[str]]:
    """Where and which lines ``after`` adds to ``before`` as one block (every original line
    kept byte for byte, in order)."""
    b, a = lines(before), lines(after)
    n = len(a) - len(b)
    assert n > 0
    for at in range(len(b) + 1):
        if a[:at] == b[:at] and a[at + n :] == b[at:]:
            return at, a[at : at + n]
    raise AssertionError("the original lines are not kept around one inserted block")


def deleted(before: str, after: str) -> tuple[int, list[str]]:
    at, block = inserted(after, before)
    return at, block


def changed_line(before: str, after: str) -> tuple[str, str]:
    b, a = lines(before), lines(after)
    assert len(a) == len(b)
    diffs = [(x, y) for x, y in zip(b, a, strict=True) if x != y]
    assert len(diffs) == 1
    return diffs[0]


def load(text: str) -> Policy:
    policy, problems = loader.load_bytes("p.yaml", text.encode())
    assert problems == [], problems
    assert policy is not None
    return dataclasses.replace(policy, source=PolicySource("", ""))


def same_but_followers(a: Policy, b: Policy) -> None:
    assert dataclasses.replace(a, followers=()) == dataclasses.replace(b, followers=())


def test_the_fixture_is_a_valid_policy() -> None:
    p = load(COMMENTED)
    assert [f.user for f in p.followers] == [F1, F2, F3]
    assert p.followers[2].paused is True  # `yes` is a boolean to the loader


def test_add_inserts_one_block_after_the_last_entry_as_its_neighbours_are_indented() -> None:
    entry = edit.Entry(
        F4,
        overrides=(("stopCondition", "Price"), ("stopValue", "3600")),
        scale=(("investmentAmount", "0.25"),),
        paused=True,
    )
    after = edit.add(COMMENTED, entry)
    at, block = inserted(COMMENTED, after)
    assert lines(COMMENTED)[at - 1] == "      paused: yes          # on holiday\n"
    assert block == [
        f"  -   user: {F4}\n",  # the last entry's layout: dash at 2, keys at 6
        "      overrides:\n",
        "        stopCondition: Price\n",
        "        stopValue: 3600\n",
        "      scale:\n",
        "        investmentAmount: 0.25\n",
        "      paused: true\n",
    ]
    before, now = load(COMMENTED), load(after)
    same_but_followers(before, now)
    assert now.followers[:3] == before.followers
    assert (now.followers[3].user, now.followers[3].paused) == (F4, True)
    assert dict(now.followers[3].own.overrides) == {"stopCondition": "Price", "stopValue": 3600}
    assert dict(now.followers[3].own.scale) == {"investmentAmount": 0.25}


@pytest.mark.parametrize(
    ("given", "written", "value"),
    [
        ("3600", "3600", 3600),
        ("Price", "Price", "Price"),
        ('"3600"', '"3600"', "3600"),
        ("'yes'", "'yes'", "yes"),
        ("yes", "yes", True),
        ("1.0e-07", "1.0e-07", 1e-07),
        ("  0.50  ", "0.50", 0.5),
        ("", "null", None),
    ],
)
def test_values_are_written_as_given_and_read_back_the_same(
    given: str, written: str, value: Any
) -> None:
    after = edit.add(COMMENTED, edit.Entry(F4, overrides=(("signalToken", given),)))
    _, block = inserted(COMMENTED, after)
    assert block[-1] == f"        signalToken: {written}\n"
    assert edit.scalar_text(value, given) == written


@pytest.mark.parametrize(
    ("value", "text"),
    [("yes", '"yes"'), ("3600", '"3600"'), ("a: b", '"a: b"'), ("x #1", '"x #1"'),
     (1e-07, "1.0e-07"), (1e20, "1.0e+20"), (True, "true"), ("Price", "Price"),
     ("ünïcode", "ünïcode"), ("", '""')],
)
def test_scalars_without_a_given_text_are_quoted_when_the_loader_would_misread_them(
    value: Any, text: str
) -> None:
    assert edit.scalar_text(value) == text


def test_a_user_id_that_reads_as_a_number_is_quoted() -> None:
    after = edit.add(COMMENTED, edit.Entry("12345"))
    _, block = inserted(COMMENTED, after)
    assert block == ['  -   user: "12345"\n']


def test_add_refuses_a_user_already_listed() -> None:
    with pytest.raises(edit.EditError, match=f"user {F2} is already listed"):
        edit.add(COMMENTED, edit.Entry(F2))


def test_remove_deletes_the_entry_and_its_own_comments_only() -> None:
    after = edit.remove(COMMENTED, F2)
    _, block = deleted(COMMENTED, after)
    assert block == [
        f"  - user: '{F2}'\n",
        "    scale:\n",
        "      investmentAmount: 0.5\n",
        "      # (was 0.75 until June)\n",
    ]
    assert "    # half size since the margin call\n" in lines(after)  # above it: kept
    before, now = load(COMMENTED), load(after)
    same_but_followers(before, now)
    assert now.followers == (before.followers[0], before.followers[2])


def test_remove_the_first_keeps_the_heading_and_the_next_note() -> None:
    after = edit.remove(COMMENTED, F1)
    _, block = deleted(COMMENTED, after)
    assert block[0] == f"  - user: {F1}   # Alice\n"
    assert block[-1] == "      stopValue: 3200\n"
    text = "".join(lines(after))
    assert "# --- VIP accounts" in text and "# half size since the margin call" in text


def test_remove_the_last_keeps_what_follows_the_list() -> None:
    after = edit.remove(COMMENTED, F3)
    _, block = deleted(COMMENTED, after)
    assert block == [f"  -   user: {F3}\n", "      paused: yes          # on holiday\n"]
    assert after.endswith("on_immutable_change: recreate\n# end of file\n")


def test_remove_every_follower_leaves_a_valid_empty_list() -> None:
    text = COMMENTED
    for user in (F2, F3, F1):
        text = edit.remove(text, user)
    assert load(text).followers == ()


def test_pause_adds_one_line_at_the_entry_s_key_column() -> None:
    after = edit.set_paused(COMMENTED, F1, True)
    assert after is not None
    at, block = inserted(COMMENTED, after)
    assert block == ["    paused: true\n"]
    assert lines(COMMENTED)[at - 1] == "      stopValue: 3200\n"
    assert load(after).followers[0].paused is True


def test_unpause_rewrites_only_the_value_and_keeps_the_comment() -> None:
    after = edit.set_paused(COMMENTED, F3, False)
    assert after is not None
    assert changed_line(COMMENTED, after) == (
        "      paused: yes          # on holiday\n",
        "      paused: false          # on holiday\n",
    )
    assert load(after).followers[2].paused is False


def test_pause_or_unpause_what_already_is_changes_nothing() -> None:
    assert edit.set_paused(COMMENTED, F3, True) is None
    assert edit.set_paused(COMMENTED, F1, False) is None


def test_a_user_not_listed_is_refused() -> None:
    for call in (
        lambda: edit.remove(COMMENTED, F4),
        lambda: edit.set_paused(COMMENTED, F4, True),
    ):
        with pytest.raises(edit.EditError, match=f"user {F4} is not listed in this file"):
            call()


LAYOUTS = {
    "dash at column 0": f"master: {ETH_GRID}\nfollowers:\n- user: {F1}\n  paused: false\n",
    "CRLF line ends": f"master: {ETH_GRID}\r\nfollowers:\r\n  - user: {F1}\r\n",
    "no newline at the end": f"master: {ETH_GRID}\nfollowers:\n  - user: {F1}",
    "a dash alone on its line": f"master: {ETH_GRID}\nfollowers:\n  -\n    user: {F1}\n",
    "flow entries": f"master: {ETH_GRID}\nfollowers:\n  - {{user: {F1}}}  # one line\n",
    "four-space indents": f"master: {ETH_GRID}\nfollowers:\n    -   user: {F1}\n"
    "        scale:\n            investmentAmount: 0.5\n",
    "empty flow list": f"master: {ETH_GRID}\nfollowers: []   # none yet\nlocked: [symbol]\n",
    "null list": f"master: {ETH_GRID}\nfollowers:\n  # none yet\non_master_stopped: stop\n",
    "no followers key": f"# a master alone\nmaster: {ETH_GRID}\n",
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_add_pause_unpause_remove_round_trip(layout: str) -> None:
    text = LAYOUTS[layout]
    before = load(text)
    added = edit.add(text, edit.Entry(F4, scale=(("investmentAmount", "0.5"),)))
    if before.followers:  # the original lines stay (a last line gets its line end)
        inserted(text if text.endswith("\n") else text + "\n", added)
    now = load(added)
    same_but_followers(before, now)
    assert [f.user for f in now.followers] == [*(f.user for f in before.followers), F4]
    assert dict(now.followers[-1].own.scale) == {"investmentAmount": 0.5}
    paused = edit.set_paused(added, F4, True)
    assert paused is not None and load(paused).followers[-1].paused is True
    unpaused = edit.set_paused(paused, F4, False)
    assert unpaused is not None and load(unpaused).followers[-1].paused is False
    removed = edit.remove(unpaused, F4)
    assert load(removed) == before
    if before.followers:
        first = before.followers[0].user
        again = edit.set_paused(text, first, True)
        assert again is not None and load(again).followers[0].paused is True
        assert load(edit.remove(text, first)).followers == before.followers[1:]
    if "\r\n" in text:
        assert "\n" not in added.replace("\r\n", "")  # new lines end as the file's do


def test_a_non_empty_flow_list_is_refused_with_the_way_out() -> None:
    text = f"master: {ETH_GRID}\nfollowers: [{{user: {F1}}}]\n"
    with pytest.raises(edit.EditError, match="write it as a block list"):
        edit.add(text, edit.Entry(F4))


def test_unreadable_yaml_is_refused() -> None:
    with pytest.raises(edit.EditError, match="not valid YAML"):
        edit.add("master: [unclosed\n", edit.Entry(F4))
    with pytest.raises(edit.EditError, match="line breaks"):
        edit.add(f"master: {ETH_GRID}\rfollowers:\r", edit.Entry(F4))
