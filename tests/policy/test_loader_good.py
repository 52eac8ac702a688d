"""Good policy files become the expected immutable Policy values; the folder rules."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import MappingProxyType

import pytest

from copytrader.core.model import Scalar
from copytrader.core.policy import (
    FollowerPolicy,
    Layer,
    Limit,
    OnDuplicate,
    OnExisting,
    OnFollowerRemoved,
    OnImmutableChange,
    OnMasterStopped,
    Policy,
    PolicySource,
    Propagation,
)
from copytrader.errors import ConfigError
from copytrader.policy import loader
from tests.policy.conftest import Write

FULL = """\
master: 6dafad4e364449c9906296aab8eff2f7   # the master bot's botId
defaults:
  overrides: {stopValue: 3500}
  scale: {investmentAmount: 1.0}
limits:
  investmentAmount: {min: 10, max: 5000}
  stopValue: {max: 9000}
locked: [symbol]
followers:
  - user: f873b314-f165-45a0-b658-d15ff37d529a
    overrides: {stopCondition: Price, stopExit: yes}
    scale: {investmentAmount: 0.5}
    paused: false
  - user: 28f19b46-81df-481c-9872-c215626f166e
    paused: true
on_follower_removed: delete
on_master_stopped: keep
on_immutable_change: flag
propagation: auto
on_duplicate: stop
on_existing: adopt
"""


def _layer(
    overrides: dict[str, Scalar] | None = None, scale: dict[str, float] | None = None
) -> Layer:
    return Layer(MappingProxyType(overrides or {}), MappingProxyType(scale or {}))


def test_full_file_parses_to_the_expected_policy(write: Write) -> None:
    path = write("full.yaml", FULL)
    policy, problems = loader.load_file(path)
    assert problems == []
    assert policy == Policy(
        master="6dafad4e364449c9906296aab8eff2f7",
        followers=(
            FollowerPolicy(
                "f873b314-f165-45a0-b658-d15ff37d529a",
                _layer({"stopCondition": "Price", "stopExit": True}, {"investmentAmount": 0.5}),
            ),
            FollowerPolicy("28f19b46-81df-481c-9872-c215626f166e", _layer(), paused=True),
        ),
        defaults=_layer({"stopValue": 3500}, {"investmentAmount": 1.0}),
        limits=MappingProxyType(
            {"investmentAmount": Limit(10, 5000), "stopValue": Limit(None, 9000)}
        ),
        locked=frozenset({"symbol"}),
        on_follower_removed=OnFollowerRemoved.DELETE,
        on_master_stopped=OnMasterStopped.KEEP,
        on_immutable_change=OnImmutableChange.FLAG,
        propagation=Propagation.AUTO,
        on_duplicate=OnDuplicate.STOP,
        on_existing=OnExisting.ADOPT,
        source=PolicySource(str(path), hashlib.sha256(FULL.encode()).hexdigest()),
    )


def test_minimal_file_takes_the_defaults(write: Write) -> None:
    policy, problems = loader.load_file(write("m.yml", "master: abc\n"))
    assert problems == []
    assert policy is not None
    assert (policy.followers, policy.locked, dict(policy.limits)) == ((), frozenset(), {})
    assert policy.defaults == Layer()
    assert policy.on_follower_removed is OnFollowerRemoved.STOP
    assert policy.on_master_stopped is OnMasterStopped.STOP
    assert policy.on_immutable_change is OnImmutableChange.RECREATE
    assert policy.propagation is Propagation.COPYTRADER
    assert policy.on_duplicate is OnDuplicate.REPORT
    assert policy.on_existing is OnExisting.HOLD


def test_empty_sections_count_as_empty(write: Write) -> None:
    text = "master: abc\ndefaults:\n  overrides:\n  scale:\nlimits:\nlocked:\nfollowers:\n"
    policy, problems = loader.load_file(write("e.yaml", text))
    assert problems == []
    assert policy == Policy(master="abc", source=policy.source if policy else PolicySource("", ""))


def test_values_keep_their_yaml_types(write: Write) -> None:
    text = (
        "master: abc\ndefaults:\n  overrides:\n"
        "    stopValue: 3_500\n    startValue: 0.25\n    stopExit: off\n    stopType: Below value\n"
        "    symbol: '123'\n    note: 2024-01-01\n"
    )
    policy, problems = loader.load_file(write("t.yaml", text))
    assert problems == []
    assert policy is not None
    values = dict(policy.defaults.overrides)
    assert values == {
        "stopValue": 3500,
        "startValue": 0.25,
        "stopExit": False,
        "stopType": "Below value",
        "symbol": "123",
        "note": "2024-01-01",
    }
    assert [type(v) for v in values.values()] == [int, float, bool, str, str, str]


def test_policy_values_are_immutable(write: Write) -> None:
    policy, _ = loader.load_file(write("full.yaml", FULL))
    assert policy is not None
    with pytest.raises(TypeError):
        policy.defaults.overrides["stopValue"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        policy.limits["x"] = Limit()  # type: ignore[index]
    with pytest.raises(TypeError):
        policy.followers[0].own.scale["investmentAmount"] = 2  # type: ignore[index]
    assert isinstance(policy.followers, tuple)
    assert isinstance(policy.locked, frozenset)


def test_utf8_bom_and_crlf_are_fine(write: Write) -> None:
    path = write("bom.yaml", b"\xef\xbb\xbfmaster: abc\r\nlocked: [symbol]\r\n")
    policy, problems = loader.load_file(path)
    assert problems == []
    assert policy is not None
    assert policy.locked == frozenset({"symbol"})


# -- the folder -----------------------------------------------------------------------------


def test_load_dir_reads_yaml_and_yml_sorted_skipping_hidden_and_others(
    tmp_path: Path, write: Write
) -> None:
    write("b.yml", "master: bbb\n")
    write("a.yaml", "master: aaa\n")
    write(".hidden.yaml", "master: hidden\n")
    write("notes.txt", "master: txt\n")
    write("c.yaml.bak", "master: bak\n")
    (tmp_path / "sub").mkdir()
    write("sub/d.yaml", "master: nested\n")
    (tmp_path / "dir.yaml").mkdir()
    loaded = loader.load_dir(tmp_path)
    assert [p.master for p in loaded.policies] == ["aaa", "bbb"]
    assert loaded.problems == ()
    assert loaded.invalid_files == ()
    assert dict(loaded.files) == {
        str(tmp_path / "a.yaml"): hashlib.sha256(b"master: aaa\n").hexdigest(),
        str(tmp_path / "b.yml"): hashlib.sha256(b"master: bbb\n").hexdigest(),
    }


def test_load_dir_keeps_valid_files_and_names_the_invalid_ones(
    tmp_path: Path, write: Write
) -> None:
    write("good.yaml", "master: good\n")
    write("bad.yaml", "master: broken\nfollowers: {}\n")
    write("worse.yaml", "master: [\n")
    loaded = loader.load_dir(tmp_path)
    assert [p.master for p in loaded.policies] == ["good"]
    bad, worse = str(tmp_path / "bad.yaml"), str(tmp_path / "worse.yaml")
    assert loaded.invalid_files == (bad, worse)
    # The master of an invalid file is known when it could be read, so its followers are
    # left alone; a file that does not even parse names no master.
    assert loaded.invalid_masters == frozenset({"broken"})
    assert [p.file for p in loaded.problems] == [bad, worse]
    assert set(loaded.files) == {bad, worse, str(tmp_path / "good.yaml")}


def test_two_files_for_one_master_make_both_invalid(tmp_path: Path, write: Write) -> None:
    a = write("a.yaml", "master: same\nlocked: [symbol]\n")
    b = write("b.yaml", "# another\nmaster: same\n")
    write("c.yaml", "master: other\n")
    loaded = loader.load_dir(tmp_path)
    assert [p.master for p in loaded.policies] == ["other"]
    assert loaded.invalid_files == (str(a), str(b))
    assert loaded.invalid_masters == frozenset({"same"})
    assert [str(p) for p in loaded.problems] == [
        f"{a}:1:9: master same is also the master of {b}: one file per master",
        f"{b}:2:9: master same is also the master of {a}: one file per master",
    ]


def test_duplicate_master_is_reported_even_when_a_file_has_other_problems(
    tmp_path: Path, write: Write
) -> None:
    a = write("a.yaml", "master: same\nfollowers: 3\n")
    b = write("b.yaml", "master: same\n")
    loaded = loader.load_dir(tmp_path)
    assert loaded.policies == ()
    assert [str(p) for p in loaded.problems] == [
        f"{a}:1:9: master same is also the master of {b}: one file per master",
        f"{a}:2:12: followers must be a list, got the number 3",
        f"{b}:1:9: master same is also the master of {a}: one file per master",
    ]


def test_missing_folder_is_a_config_error_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"COPYTRADER_POLICY_DIR: .*nowhere does not exist"):
        loader.load_dir(tmp_path / "nowhere")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match=r"COPYTRADER_POLICY_DIR: .*file is not a folder"):
        loader.load_dir(tmp_path / "file")


def test_empty_folder_has_no_policies(tmp_path: Path) -> None:
    assert loader.load_dir(tmp_path) == loader.LoadedPolicies()


def test_a_file_that_does_not_parse_still_claims_its_master(tmp_path: Path, write: Write) -> None:
    # A typo in a file must not let its master's followers be treated as unmanaged, and a
    # second file for the same master is a duplicate even while the first one is broken.
    broken = write("a.yaml", "# editing\nmaster: 'same'  # the ETH grid\nlocked: [symbol\n")
    good = write("b.yaml", "master: same\n")
    write("c.yaml", "master: [\n")
    loaded = loader.load_dir(tmp_path)
    assert loaded.policies == ()
    assert loaded.invalid_masters == frozenset({"same"})
    assert [str(p) for p in loaded.problems][:3] == [
        f"{broken}:2:9: master same is also the master of {good}: one file per master",
        f"{broken}:3:9: YAML syntax error: a '[' opened here is never closed with ']'",
        f"{good}:1:9: master same is also the master of {broken}: one file per master",
    ]


RISKY = """\
master: 6dafad4e364449c9906296aab8eff2f7
defaults:
  risk:
    max_drawdown_pct: 15
    min_roi_pct: -20
    on_breach: stop
followers:
  - user: a
    risk: {min_roi_pct: -10.5, max_tracking_gap_pct: 10}
  - user: b
    risk: {on_breach: notify}
  - user: c
"""


def test_risk_blocks_merge_key_by_key(write: Write) -> None:
    from copytrader.core.policy import OnBreach, RiskRules

    policy, problems = loader.load_file(write("risky.yaml", RISKY))
    assert problems == [] and policy is not None
    a, b, c = policy.followers
    assert policy.risk(a) == RiskRules(-10.5, 15, 10, OnBreach.STOP)
    assert policy.risk(b) == RiskRules(-20, 15, None, OnBreach.NOTIFY)
    assert policy.risk(c) == RiskRules(-20, 15, None, OnBreach.STOP)
    assert policy.risk(c).fingerprint() != policy.risk(b).fingerprint()
    assert not RiskRules().any and RiskRules().action is OnBreach.STOP
