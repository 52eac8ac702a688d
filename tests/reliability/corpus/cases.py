"""The index of the bad policy corpus: each file, where its first problem is, and what it says.

Every file in this folder is listed here (a test checks that), with the ``LINE:COL`` and a
fragment of the message ``copytrader policy check`` must print as ``PATH:LINE:COL: message``.
Files too big to commit (over the size limit) are generated at test time (:func:`generated`).
Each file names its own master (``c000...NN``, created by the tests on the simulator), so
the files never collide with each other.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from copytrader.policy.yamltree import MAX_BYTES

FOLDER = Path(__file__).parent


class Case(NamedTuple):
    file: str
    at: str  # LINE:COL of the problem
    fragment: str  # part of its message (other problems of the file may be reported too)
    check_only: bool = False  # invalid for ``policy check`` only (a reconcile treats it as valid)


def master_of(file: str) -> str | None:
    """The master bot id the corpus file names, if it names one."""
    found = re.search(rb"c\d{31}", (FOLDER / file).read_bytes())
    return found.group().decode() if found else None


CASES: list[Case] = [
    Case("alias_bomb.yaml", "3:8", "aliases (*a) are not allowed in policy files: write the"),
    Case(
        "alias_merge_key.yaml", "5:9", "aliases (*base) are not allowed in policy files: write the"
    ),
    Case("bom_then_list.yaml", "1:1", "the top level must be a mapping (master: ..., followers:"),
    Case("deep_nesting.yaml", "2:42", "nesting deeper than 32 levels"),
    Case(
        "duplicate_follower.yaml", "5:11", "follower f873b314-f165-45a0-b658-d15ff37d529a is listed"
    ),
    Case(
        "duplicate_override_key.yaml",
        "5:5",
        "duplicate key 'stopValue' in overrides (first at line 4)",
    ),
    Case("duplicate_top_key.yaml", "3:1", "duplicate key 'locked' in the policy (first at line 2)"),
    Case("empty.yaml", "1:1", "the file is empty: a policy needs at least 'master: BOT_ID'"),
    Case("follower_missing_user.yaml", "3:5", "follower entry needs a user"),
    Case("follower_not_mapping.yaml", "3:5", "a follower entry must be a mapping, got the string"),
    Case(
        "follower_other_exchange.yaml",
        "3:11",
        "follower user b3829396-4ad9-4034-ae7a-e8e2fb582c33 is on",
    ),
    Case(
        "follower_unknown_key.yaml",
        "4:5",
        "unknown key 'overide' in a follower entry; did you mean 'overrides'? (expected one of",
    ),
    Case(
        "follower_unknown_user.yaml",
        "3:11",
        "follower user 00000000-0000-4000-8000-000000000000 not",
    ),
    Case("followers_not_list.yaml", "2:12", "followers must be a list, got the string"),
    Case("investment_negative.yaml", "5:25", "investmentAmount must be above zero, got -100"),
    Case("investment_zero.yaml", "3:33", "investmentAmount must be above zero, got 0"),
    Case(
        "limits_infinite.yaml",
        "3:27",
        "max of investmentAmount must be a number, got the number .inf",
    ),
    Case("limits_min_above_max.yaml", "3:3", "limits of investmentAmount: min 900 is above max 10"),
    Case(
        "limits_unknown_key.yaml",
        "3:22",
        "unknown key 'minimum' in limits of investmentAmount; did you mean 'min'?",
    ),
    Case("locked_not_list.yaml", "2:9", "locked must be a list of setting keys, got the string"),
    Case(
        "locked_unknown_setting.yaml", "2:18", "unknown setting 'nonsense' for bot type spot_grid"
    ),
    Case("master_number.yaml", "1:9", "master must be a string, got the number 12345"),
    Case(
        "master_timestamp.yaml",
        "1:9",
        "master bot 2024-01-01 not found on the platform",
        check_only=True,
    ),
    Case("missing_master.yaml", "1:1", "missing required key 'master' (the master bot's botId)"),
    Case("non_string_key.yaml", "2:1", "keys in the policy must be strings, got the number 42"),
    Case("not_utf8.yaml", "3:14", "file is not UTF-8: byte 0xe9 cannot be decoded"),
    Case("nul_character.yaml", "2:14", "character U+0000 is not allowed in a YAML file"),
    Case(
        "on_follower_removed_bad.yaml",
        "2:22",
        "on_follower_removed must be one of stop | delete | keep,",
    ),
    Case(
        "on_immutable_change_bad.yaml",
        "2:22",
        "on_immutable_change must be one of recreate | flag, got the",
    ),
    Case(
        "on_master_stopped_bad.yaml",
        "2:20",
        "on_master_stopped must be one of stop | keep, got the",
    ),
    Case("only_comment.yaml", "1:1", "the file is empty: a policy needs at least 'master: BOT_ID'"),
    Case(
        "option_not_in_options.yaml",
        "4:17",
        "gridMode: 'Triangular' is not one of Arithmetic, Geometric",
    ),
    Case(
        "override_and_scale_same_key.yaml",
        "4:11",
        "investmentAmount is both overridden and scaled in the same",
    ),
    Case("override_locked.yaml", "5:17", "symbol is locked: it cannot be overridden"),
    Case("override_null.yaml", "4:16", "override of stopValue must not be null"),
    Case(
        "override_unknown_setting.yaml",
        "4:17",
        "unknown setting 'leverageMultiplier' for bot type spot_grid",
    ),
    Case("override_value_list.yaml", "3:26", "override of stopValue must be a string, number or"),
    Case("override_wrong_type.yaml", "4:17", "stopValue: expected a number, got 'high'"),
    Case("paused_not_bool.yaml", "4:13", "paused must be true or false, got the number 3"),
    Case("scale_locked.yaml", "4:11", "investmentAmount is locked: it cannot be scaled"),
    Case("scale_nan.yaml", "3:29", "scale of investmentAmount must be a number, got the number"),
    Case(
        "scale_non_number_key.yaml",
        "4:13",
        "stopCondition is of type option, not a number: it cannot be",
    ),
    Case("scale_string.yaml", "3:29", "scale of investmentAmount must be a number, got the string"),
    Case(
        "syntax_bad_indent.yaml",
        "4:4",
        "YAML syntax error: bad indentation: this line is indented 3 spaces, but the key on "
        "line 3 starts at 4 spaces (its '- ' at 2)",
    ),
    Case(
        "syntax_colon_in_plain.yaml",
        "3:47",
        "YAML syntax error: a second ': ' on one line: a value that contains ': ' must be quoted",
    ),
    Case(
        "syntax_tab_indent.yaml",
        "3:1",
        "YAML syntax error: a tab character: YAML indents with spaces only; replace it with",
    ),
    Case(
        "syntax_unclosed_flow.yaml",
        "2:12",
        "YAML syntax error: a '[' opened here is never closed with ']'",
    ),
    Case(
        "syntax_unclosed_quote.yaml",
        "1:9",
        "YAML syntax error: a quote opened here is never closed",
    ),
    Case("tag_binary.yaml", "1:9", "tag !!binary is not allowed in policy files"),
    Case("tag_custom.yaml", "2:11", "tag !include is not allowed in policy files"),
    Case(
        "tag_python_name.yaml", "1:9", "tag !!python/name:os.system is not allowed in policy files"
    ),
    Case("tag_python_object.yaml", "2:12", "tag !!python/object/apply:os.system is not allowed in"),
    Case("tag_set.yaml", "2:9", "tag !!set is not allowed in policy files"),
    Case("top_level_list.yaml", "1:1", "the top level must be a mapping (master: ..., followers:"),
    Case(
        "top_level_scalar.yaml", "1:1", "the top level must be a mapping (master: ..., followers:"
    ),
    Case(
        "two_documents.yaml",
        "2:1",
        "YAML syntax error: a second document ('---'): a policy file holds exactly one",
    ),
    Case(
        "unknown_top_key.yaml",
        "2:1",
        "unknown key 'folowers' in the policy; did you mean 'followers'? (expected one of",
    ),
    Case("utf16.yml", "1:1", "file is not UTF-8: byte 0xff cannot be decoded"),
]


def generated(folder: Path) -> list[Case]:
    """Write the files too big to commit into ``folder``; their cases."""
    huge = folder / "huge_file.yaml"
    with huge.open("w", encoding="utf-8") as fh:
        fh.write("master: c9999999999999999999999999999999\n")
        fh.write("# padding\n" * (MAX_BYTES // 10 + 1000))  # just over the limit
    wide = folder / "huge_line.yaml"
    text = (
        "master: c9999999999999999999999999999998\nlocked: ["
        + "a, " * (MAX_BYTES // 3 + 1000)
        + "b]\n"
    )
    wide.write_text(text, encoding="utf-8")
    return [
        Case("huge_file.yaml", "1:1", f"larger than the limit of {MAX_BYTES} bytes"),
        Case("huge_line.yaml", "1:1", f"larger than the limit of {MAX_BYTES} bytes"),
    ]
