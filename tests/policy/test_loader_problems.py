"""Bad policy files: every problem is reported, with its exact message and line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from copytrader.policy import loader
from tests.policy.conftest import Write

M = "master: 6dafad4e364449c9906296aab8eff2f7\n"
TOP = (
    "master, defaults, limits, locked, followers, on_follower_removed, on_master_stopped, "
    "on_immutable_change, propagation, on_duplicate, on_existing"
)

# (id, file text, every expected "LINE:COL: message" in order)
CASES: list[tuple[str, str, list[str]]] = [
    ("empty file", "", ["1:1: the file is empty: a policy needs at least 'master: BOT_ID'"]),
    (
        "only a comment",
        "# nothing\n",
        ["1:1: the file is empty: a policy needs at least 'master: BOT_ID'"],
    ),
    (
        "top level a list",
        "- master: x\n",
        ["1:1: the top level must be a mapping (master: ..., followers: ...), got a list"],
    ),
    (
        "top level a string",
        "hello\n",
        [
            "1:1: the top level must be a mapping (master: ..., followers: ...), "
            "got the string 'hello'"
        ],
    ),
    (
        "missing master",
        "followers: []\n",
        ["1:1: missing required key 'master' (the master bot's botId)"],
    ),
    ("master a number", "master: 42\n", ["1:9: master must be a string, got the number 42"]),
    ("master empty", "master: ''\n", ["1:9: master must be a non-empty string"]),
    ("master null", "master:\n", ["1:8: master must be a string, got null"]),
    ("master a list", "master: [a]\n", ["1:9: master must be a string, got a list"]),
    (
        "unknown top-level key",
        M + "folowers: []\n",
        [
            f"2:1: unknown key 'folowers' in the policy; did you mean 'followers'? "
            f"(expected one of {TOP})"
        ],
    ),
    (
        "duplicate top-level key",
        M + "locked: [a]\nlocked: [b]\n",
        ["3:1: duplicate key 'locked' in the policy (first at line 2)"],
    ),
    (
        "duplicate master key",
        M + "master: 7d7e643ac399492c8adf1add09316abb\n",
        ["2:1: duplicate key 'master' in the policy (first at line 1)"],
    ),
    (
        "non-string key",
        M + "1: x\n",
        ["2:1: keys in the policy must be strings, got the number 1 (quote it)"],
    ),
    (
        "defaults not a mapping",
        M + "defaults: [1]\n",
        ["2:11: defaults must be a mapping, got a list"],
    ),
    (
        "unknown key in defaults",
        M + "defaults:\n  overide: {a: 1}\n",
        [
            "3:3: unknown key 'overide' in defaults; did you mean 'overrides'? "
            "(expected one of overrides, scale, risk)"
        ],
    ),
    (
        "overrides not a mapping",
        M + "defaults:\n  overrides: stopValue\n",
        ["3:14: overrides must be a mapping, got the string 'stopValue'"],
    ),
    (
        "override value a list",
        M + "defaults:\n  overrides: {stopValue: [1, 2]}\n",
        ["3:26: override of stopValue must be a string, number or true/false, got a list"],
    ),
    (
        "override value null",
        M + "defaults:\n  overrides:\n    stopValue: null\n",
        ["4:16: override of stopValue must not be null"],
    ),
    (
        "duplicate override key",
        M + "defaults:\n  overrides:\n    stopValue: 1\n    stopValue: 2\n",
        ["5:5: duplicate key 'stopValue' in overrides (first at line 4)"],
    ),
    (
        "zero investmentAmount",
        M + "defaults:\n  overrides: {investmentAmount: 0}\n",
        ["3:33: investmentAmount must be above zero, got 0"],
    ),
    (
        "negative investmentAmount in a follower",
        M + "followers:\n  - user: u1\n    overrides:\n      investmentAmount: -5.5\n",
        ["5:25: investmentAmount must be above zero, got -5.5"],
    ),
    (
        "scale not a number",
        M + "defaults:\n  scale: {investmentAmount: lots}\n",
        ["3:29: scale of investmentAmount must be a number, got the string 'lots'"],
    ),
    (
        "scale a bool",
        M + "defaults:\n  scale:\n    investmentAmount: true\n",
        ["4:23: scale of investmentAmount must be a number, got true"],
    ),
    (
        "overridden and scaled in defaults",
        M + "defaults:\n  overrides: {investmentAmount: 10}\n  scale: {investmentAmount: 2}\n",
        [
            "4:11: investmentAmount is both overridden and scaled in the same layer: "
            "keep one of the two"
        ],
    ),
    (
        "overridden and scaled in a follower",
        M + "followers:\n  - user: u1\n    scale: {stopValue: 2}\n    overrides: {stopValue: 3}\n",
        ["4:13: stopValue is both overridden and scaled in the same layer: keep one of the two"],
    ),
    (
        "limits not a mapping",
        M + "limits: [investmentAmount]\n",
        ["2:9: limits must be a mapping, got a list"],
    ),
    (
        "limit not a mapping",
        M + "limits:\n  investmentAmount: 100\n",
        ["3:21: limits of investmentAmount must be a mapping, got the number 100"],
    ),
    (
        "limit with unknown key and a string bound",
        M + "limits:\n  investmentAmount: {min: ten, most: 5}\n",
        [
            "3:27: min of investmentAmount must be a number, got the string 'ten'",
            "3:32: unknown key 'most' in limits of investmentAmount; expected one of min, max",
        ],
    ),
    (
        "limit without bounds",
        M + "limits:\n  investmentAmount: {}\n",
        ["3:3: limits of investmentAmount: give min, max or both"],
    ),
    (
        "limit min above max",
        M + "limits:\n  investmentAmount: {min: 500, max: 50}\n",
        ["3:3: limits of investmentAmount: min 500 is above max 50"],
    ),
    (
        "limit infinite",
        M + "limits:\n  investmentAmount: {max: .inf}\n",
        ["3:27: max of investmentAmount must be a number, got the number .inf"],
    ),
    (
        "locked a string",
        M + "locked: symbol\n",
        ["2:9: locked must be a list of setting keys, got the string 'symbol'"],
    ),
    (
        "locked item not a string",
        M + "locked: [symbol, 3]\n",
        ["2:18: a locked key must be a string, got the number 3"],
    ),
    (
        "followers a mapping",
        M + "followers: {user: u1}\n",
        ["2:12: followers must be a list, got a mapping"],
    ),
    (
        "follower a bare string",
        M + "followers:\n  - f873b314-f165-45a0-b658-d15ff37d529a\n",
        [
            "3:5: a follower entry must be a mapping, got the string "
            "'f873b314-f165-45a0-b658-d15ff37d529a'"
        ],
    ),
    (
        "follower without user",
        M + "followers:\n  - paused: true\n",
        ["3:5: follower entry needs a user"],
    ),
    (
        "follower user empty",
        M + "followers:\n  - user: ''\n",
        ["3:11: user must be a non-empty string"],
    ),
    (
        "unknown key in a follower",
        M + "followers:\n  - user: u1\n    pause: true\n",
        [
            "4:5: unknown key 'pause' in a follower entry; did you mean 'paused'? "
            "(expected one of user, overrides, scale, paused, risk)"
        ],
    ),
    (
        "paused not a bool",
        M + "followers:\n  - user: u1\n    paused: 'no'\n",
        ["4:13: paused must be true or false, got the string 'no'"],
    ),
    (
        "follower listed twice",
        M + "followers:\n  - user: u1\n  - user: u2\n  - user: u1\n",
        ["5:11: follower u1 is listed twice (first at line 3)"],
    ),
    (
        "bad on_follower_removed",
        M + "on_follower_removed: purge\n",
        ["2:22: on_follower_removed must be one of stop | delete | keep, got the string 'purge'"],
    ),
    (
        "bad on_master_stopped",
        M + "on_master_stopped: delete\n",
        ["2:20: on_master_stopped must be one of stop | keep, got the string 'delete'"],
    ),
    (
        "bad on_immutable_change",
        M + "on_immutable_change: true\n",
        ["2:22: on_immutable_change must be one of recreate | flag, got true"],
    ),
    (
        "bad propagation",
        M + "followers: []\npropagation: platform\n",
        ["3:14: propagation must be one of auto | copytrader, got the string 'platform'"],
    ),
    (
        "bad on_duplicate",
        M + "followers: []\non_duplicate: delete\n",
        ["3:15: on_duplicate must be one of report | stop, got the string 'delete'"],
    ),
    (
        "bad on_existing",
        M + "on_existing: [adopt]\n",
        ["2:14: on_existing must be one of hold | adopt | clone, got a list"],
    ),
    (
        "enum is case-sensitive",
        M + "on_master_stopped: Stop\n",
        [
            "2:20: on_master_stopped must be one of stop | keep, got the string 'Stop'; "
            "did you mean 'stop'?"
        ],
    ),
    (
        "explicit tag that does not fit",
        M + "defaults:\n  overrides: {stopValue: !!int abc}\n",
        ["3:26: 'abc' is not a valid !!int"],
    ),
    (
        "syntax: bad indentation",
        M + "  locked: [a]\n",
        [
            "2:3: YAML syntax error: this key is indented deeper than the key on line 1, which "
            "already has a value: line it up with its sibling keys (or, to nest it, end line 1 "
            "with ':' and no value)"
        ],
    ),
    (
        "syntax: unclosed flow list",
        M + "locked: [a, b\n",
        ["2:9: YAML syntax error: a '[' opened here is never closed with ']'"],
    ),
    (
        "syntax: tab indentation",
        M + "defaults:\n\toverrides: {}\n",
        [
            "3:1: YAML syntax error: a tab character: YAML indents with spaces only; "
            "replace it with spaces"
        ],
    ),
    (
        "two documents",
        M + "---\n" + M,
        ["2:1: YAML syntax error: a second document ('---'): a policy file holds exactly one"],
    ),
    # -- plain words for what people get wrong (issue 16) --------------------------------
    (
        "no space after the colon, block style",
        M + "defaults:\n  overrides:\n    stopValue:3500\n",
        [
            "4:5: overrides must be a mapping, got the string 'stopValue:3500'; put a space "
            "after the colon: 'stopValue: 3500'"
        ],
    ),
    (
        "no space after the colon, flow style",
        M + "defaults: {overrides: {stopValue:3500}}\n",
        [
            "2:24: 'stopValue:3500' has no space after the colon, so YAML reads it as one key "
            "with no value: write 'stopValue: 3500'"
        ],
    ),
    (
        "no space after the colon of the master",
        "master:6dafad4e364449c9906296aab8eff2f7\n",
        [
            "1:1: the top level must be a mapping (master: ..., followers: ...), got the string "
            "'master:6dafad4e364449c9906296aab8eff2f7'; put a space after the colon: "
            "'master: 6dafad4e364449c9906296aab8eff2f7'"
        ],
    ),
    (
        "no space after a list dash",
        M + "followers:\n  -user: u1\n",
        [
            "3:3: followers must be a list, got a mapping; a list item needs a space after its "
            "dash: '- user: ...'"
        ],
    ),
    (
        "syntax: a follower key indented one space too far",
        M + "followers:\n  - user: u1\n   paused: true\n",
        [
            "4:4: YAML syntax error: bad indentation: this line is indented 3 spaces, but the "
            "key on line 3 starts at 4 spaces (its '- ' at 2); line it up exactly with the keys "
            "it belongs with (YAML nests by indentation, spaces only)"
        ],
    ),
    (
        "syntax: a sibling key indented deeper",
        M + "defaults:\n  overrides: {}\n   scale: {}\n",
        [
            "4:4: YAML syntax error: bad indentation: this line is indented 3 spaces, but the "
            "key on line 3 starts at 2 spaces; line it up exactly with the keys it belongs with "
            "(YAML nests by indentation, spaces only)"
        ],
    ),
    (
        "syntax: a key with no colon",
        M + "defaults:\n  overrides\n  scale: {}\n",
        [
            "3:3: YAML syntax error: line 3 has no ':' after its key, so this line reads as part "
            "of its value: write 'overrides:'"
        ],
    ),
    (
        "syntax: a value with ': ' in it",
        M + "followers:\n  - user: u1: extra\n",
        [
            "3:13: YAML syntax error: a second ': ' on one line: a value that contains ': ' must "
            'be quoted (user: "a: b")'
        ],
    ),
    (
        "syntax: a tab after a key",
        "master:\t6dafad4e364449c9906296aab8eff2f7\n",
        [
            "1:8: YAML syntax error: a tab character: YAML indents with spaces only; replace it "
            "with spaces"
        ],
    ),
    (
        "syntax: an unclosed quote",
        'master: "6dafad4e364449c9906296aab8eff2f7\nfollowers: []\n',
        ["1:9: YAML syntax error: a quote opened here is never closed"],
    ),
    (
        "syntax: an unclosed flow mapping",
        M + "defaults: {overrides: {stopValue: 1}\n",
        ["2:11: YAML syntax error: a '{' opened here is never closed with '}'"],
    ),
    (
        "syntax: text after a closing quote",
        M + "followers:\n  - user: 'u1'x\n",
        ["3:15: YAML syntax error: text right after a closing quote: quote the whole value"],
    ),
    (
        "syntax: a value starting with @",
        "master: @6dafad4e\n",
        ["1:9: YAML syntax error: '@' cannot start a value: put the value in quotes ('@...')"],
    ),
    (
        "syntax: an empty list item",
        M + "locked: [a, , b]\n",
        ["2:13: YAML syntax error: an empty item between two commas"],
    ),
    (
        "suggestion: an enum value with a typo",
        M + "on_follower_removed: delet\n",
        [
            "2:22: on_follower_removed must be one of stop | delete | keep, got the string "
            "'delet'; did you mean 'delete'?"
        ],
    ),
    (
        "suggestion: a key in the wrong case",
        M + "Followers: []\n",
        [
            f"2:1: unknown key 'Followers' in the policy; did you mean 'followers'? "
            f"(expected one of {TOP})"
        ],
    ),
    (
        "no suggestion when nothing is close",
        M + "colour: red\n",
        [f"2:1: unknown key 'colour' in the policy; expected one of {TOP}"],
    ),
    (
        "every problem, not just the first",
        "master: 1\nlocked: a\nfollowers:\n  - user: u1\n    paused: 2\n"
        "on_follower_removed: x\nextra: 1\n",
        [
            "1:9: master must be a string, got the number 1",
            "2:9: locked must be a list of setting keys, got the string 'a'",
            "5:13: paused must be true or false, got the number 2",
            "6:22: on_follower_removed must be one of stop | delete | keep, got the string 'x'",
            f"7:1: unknown key 'extra' in the policy; expected one of {TOP}",
        ],
    ),
    (
        "risk not a mapping",
        M + "defaults:\n  risk: 15\n",
        ["3:9: risk must be a mapping, got the number 15"],
    ),
    (
        "unknown risk key",
        M + "defaults:\n  risk: {max_drawdown: 15}\n",
        [
            "3:10: unknown key 'max_drawdown' in risk; did you mean 'max_drawdown_pct'? "
            "(expected one of max_drawdown_pct, min_roi_pct, max_tracking_gap_pct, on_breach)"
        ],
    ),
    (
        "risk threshold not a number",
        M + "followers:\n  - user: u1\n    risk:\n      min_roi_pct: low\n",
        ["5:20: min_roi_pct must be a number, got the string 'low'"],
    ),
    (
        "drawdown zero and gap negative",
        M + "defaults:\n  risk: {max_drawdown_pct: 0, max_tracking_gap_pct: -3}\n",
        [
            "3:28: max_drawdown_pct must be above zero (percentage points)",
            "3:53: max_tracking_gap_pct must be above zero (percentage points)",
        ],
    ),
    (
        "on_breach unknown",
        M + "followers:\n  - user: u1\n    risk: {on_breach: halt}\n",
        ["4:23: on_breach must be one of stop | notify, got the string 'halt'"],
    ),
    (
        "risk key twice",
        M + "defaults:\n  risk:\n    min_roi_pct: -20\n    min_roi_pct: -10\n",
        ["5:5: duplicate key 'min_roi_pct' in risk (first at line 4)"],
    ),
]

@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_file_reports_every_problem_at_its_position(
    write: Write, text: str, expected: list[str]
) -> None:
    path = write("p.yaml", text)
    policy, problems = loader.load_file(path)
    assert policy is None
    assert [str(p) for p in problems] == [f"{path}:{e}" for e in expected]


@pytest.mark.parametrize("brk", ["\x85", "\u2028", "\u2029", "\r"])
def test_yaml_line_breaks_other_than_newline_give_a_problem(write: Write, brk: str) -> None:
    # PyYAML counts these as line breaks: a syntax error after them is explained with the
    # line it names, never an exception (found by tests/reliability/test_fuzz_policy.py).
    path = write("p.yaml", f"master{brk}{brk}<<: ")
    policy, problems = loader.load_file(path)
    assert policy is None
    assert len(problems) == 1 and "YAML syntax error" in str(problems[0]), problems


def test_problem_positions_in_flow_and_block_style_agree_on_the_value(write: Write) -> None:
    block = write("block.yaml", M + "defaults:\n  scale:\n    investmentAmount: x\n")
    flow = write("flow.yaml", M + "defaults: {scale: {investmentAmount: x}}\n")
    [b] = loader.load_file(block)[1]
    [f] = loader.load_file(flow)[1]
    assert (b.line, b.col, f.line, f.col) == (4, 23, 2, 38)
    assert b.at == f.at == ("defaults", "scale", "investmentAmount")


def test_unreadable_path_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    policy, problems = loader.load_file(tmp_path / "gone.yaml")
    assert policy is None
    [problem] = problems
    gone = tmp_path / "gone.yaml"
    assert str(problem) == f"{gone}:1:1: cannot read the file: No such file or directory"


def test_locked_keys_and_setting_keys_are_left_to_validate(write: Write) -> None:
    # Structurally fine: the platform-dependent checks (core.validate) report these, once.
    path = write(
        "p.yaml",
        M + "locked: [symbol]\ndefaults:\n  overrides: {symbol: X, noSuchKey: 1}\n",
    )
    policy, problems = loader.load_file(path)
    assert problems == []
    assert policy is not None
    assert policy.defaults.overrides == {"symbol": "X", "noSuchKey": 1}
