"""Hostile or broken input is refused with a clear problem, never a crash or a Python object."""

from __future__ import annotations

import hashlib
import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copytrader.core.policy import Problem
from copytrader.policy import loader, yamltree
from tests.policy.conftest import Write

M = "master: abc\n"


def _only(path: Path) -> str:
    policy, problems = loader.load_file(path)
    assert policy is None
    [problem] = problems
    return str(problem).removeprefix(f"{path}:")


def test_aliases_are_refused(write: Write) -> None:
    path = write("a.yaml", M + "defaults:\n  overrides: &o {stopValue: 1}\nlimits: *o\n")
    assert _only(path) == ("4:9: aliases (*o) are not allowed in policy files: write the value out")


def test_alias_bomb_is_refused_quickly(write: Write) -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 12):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{','.join(['*' + prev] * 9)}]")
    path = write("bomb.yaml", "\n".join(lines) + "\n")
    assert _only(path) == "2:8: aliases (*a) are not allowed in policy files: write the value out"


def test_python_tags_are_refused_and_never_constructed(write: Write) -> None:
    path = write(
        "t.yaml",
        "master: !!python/object/apply:os.system ['echo owned']\n"
        "locked: !!python/name:builtins.print\n",
    )
    policy, problems = loader.load_file(path)
    assert policy is None
    assert [str(p).removeprefix(f"{path}:") for p in problems] == [
        "1:9: tag !!python/object/apply:os.system is not allowed in policy files",
        "1:9: master must be a string, got a list",
        "2:9: tag !!python/name:builtins.print is not allowed in policy files",
        "2:9: locked must be a list of setting keys, got the string ''",
    ]


def test_other_non_plain_tags_are_refused(write: Write) -> None:
    path = write(
        "t.yaml",
        M + "followers: !!omap [{user: u}]\nlimits: !custom {}\ndefaults: {overrides: "
        "{symbol: !!binary aGVsbG8=}}\n",
    )
    policy, problems = loader.load_file(path)
    assert policy is None
    assert [str(p).removeprefix(f"{path}:") for p in problems][:3] == [
        "2:12: tag !!omap is not allowed in policy files",
        "3:9: tag !custom is not allowed in policy files",
        "4:32: tag !!binary is not allowed in policy files",
    ]


def test_merge_keys_are_refused(write: Write) -> None:
    path = write("m.yaml", M + "defaults:\n  <<: {scale: {investmentAmount: 2}}\n")
    policy, problems = loader.load_file(path)
    assert policy is None
    assert str(problems[0]).removeprefix(f"{path}:") == (
        "3:3: merge keys (<<) are not allowed in policy files"
    )


def test_standard_scalar_tags_are_allowed(write: Write) -> None:
    path = write("s.yaml", "master: !!str 123\ndefaults: {overrides: {stopValue: !!float 1}}\n")
    policy, problems = loader.load_file(path)
    assert problems == []
    assert policy is not None
    assert policy.master == "123"
    assert policy.defaults.overrides["stopValue"] == 1.0


def test_deep_nesting_is_refused(write: Write) -> None:
    path = write("d.yaml", M + "locked: " + "[" * 40 + "]" * 40 + "\n")
    assert _only(path) == f"2:40: nesting deeper than {yamltree.MAX_DEPTH} levels"


def test_very_deep_nesting_does_not_overflow_the_stack(write: Write) -> None:
    path = write("d.yaml", M + "locked: " + "[" * 20000 + "]" * 20000 + "\n")
    assert _only(path).endswith(f"nesting deeper than {yamltree.MAX_DEPTH} levels")


def test_nesting_within_the_limit_is_only_a_type_problem(write: Write) -> None:
    path = write("d.yaml", M + "locked: " + "[" * 20 + "]" * 20 + "\n")
    assert _only(path) == "2:10: a locked key must be a string, got a list"


def test_large_file_is_refused(write: Write) -> None:
    path = write("big.yaml", M + "# " + "x" * yamltree.MAX_BYTES + "\n")
    assert _only(path) == (
        f"1:1: file is {yamltree.MAX_BYTES + 15} bytes, larger than the limit of "
        f"{yamltree.MAX_BYTES} bytes"
    )


def test_large_file_is_hashed_whole_but_not_parsed(tmp_path: Path, write: Write) -> None:
    data = b"master: abc\n" + b"# filler\n" * (yamltree.MAX_BYTES // 3)
    path = write("big.yaml", data)
    loaded = loader.load_dir(tmp_path)
    assert loaded.files[str(path)] == hashlib.sha256(data).hexdigest()
    assert loaded.invalid_files == (str(path),)
    assert loaded.invalid_masters == frozenset()  # not parsed: its master is not known
    [problem] = loader.locate([Problem(str(path), "m", ("master",))], path)
    assert problem.line == 0  # too large to locate anything in


def test_non_utf8_is_refused_at_the_byte(write: Write) -> None:
    path = write("l.yaml", "master: abc\nlocked: [sÿmbol]\n".encode("latin-1"))
    assert _only(path) == "2:11: file is not UTF-8: byte 0xff cannot be decoded"


def test_utf16_is_refused(write: Write) -> None:
    path = write("u.yaml", "master: abc\n".encode("utf-16"))
    assert _only(path) == "1:1: file is not UTF-8: byte 0xff cannot be decoded"


def test_control_characters_are_refused(write: Write) -> None:
    path = write("c.yaml", "master: abc\nlocked: [a\x07b]\n")
    assert _only(path) == "2:11: character U+0007 is not allowed in a YAML file"


def test_huge_integers_are_a_problem_not_a_crash(write: Write) -> None:
    path = write("h.yaml", M + "defaults: {scale: {investmentAmount: !!int " + "9" * 5000 + "}}\n")
    assert _only(path).startswith("2:38: '999")


# -- fuzzing: nothing but problems come out --------------------------------------------------

YAMLISH = st.lists(
    st.sampled_from(
        list(string.ascii_letters[:8] + string.digits[:4])
        + list(" \t\n:-[]{},#&*!|>'\"%@`?.<=~")
        + [
            "master",
            "followers",
            "user",
            "overrides",
            "scale",
            "limits",
            "locked",
            "defaults",
            "paused",
            "min",
            "max",
            "!!python/object",
            "\n  ",
            "\n    - ",
            "investmentAmount",
            "on_follower_removed",
            "stop",
            "\x00",
            "é",
            "\ufeff",
        ]
    ),
    max_size=60,
).map("".join)


FIXTURE_OK = [HealthCheck.function_scoped_fixture]  # tmp_path is reused: each run overwrites


def _never_raises(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    policy, problems = loader.load_file(path)
    assert (policy is None) == bool(problems)
    for p in problems:
        assert isinstance(p, Problem)
        assert p.line >= 1 and p.col >= 1
        assert str(p).startswith(f"{path}:{p.line}:{p.col}: ")
    assert loader.locate([Problem(str(path), "x", ("followers", 0, "user"))], path)


@settings(max_examples=100, deadline=None, suppress_health_check=FIXTURE_OK)
@given(data=st.binary(max_size=200))
def test_random_bytes_only_ever_give_problems(tmp_path: Path, data: bytes) -> None:
    _never_raises(tmp_path / "fuzz.yaml", data)


@settings(max_examples=100, deadline=None, suppress_health_check=FIXTURE_OK)
@given(text=YAMLISH)
def test_random_yamlish_text_only_ever_gives_problems(tmp_path: Path, text: str) -> None:
    _never_raises(tmp_path / "fuzz.yaml", ("master: abc\n" + text).encode("utf-8"))
