"""Fuzzing the policy loader: whatever the bytes, only problems come back, never an exception.

Three generators: random bytes, YAML-ish text built from the tokens policy files are made
of (tags, anchors, flow and block collections, setting keys), and mutations of a valid
policy. Each result is also validated against the platform's catalogue (the second half of
``policy check``). ``COPYTRADER_FUZZ_EXAMPLES`` sets the number of examples (CI: modest).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copytrader.core import policy_checks
from copytrader.platform.haas import parse
from copytrader.policy import loader
from copytrader.sim.haas import catalogue as sim_catalogue
from copytrader.sim.haas.seed import seed_demo
from copytrader.sim.haas.state import SimState
from tests.reliability.conftest import GRID, GRID_POLICY
from tests.reliability.support import env_int

EXAMPLES = env_int("COPYTRADER_FUZZ_EXAMPLES", 300)
PROBLEM = re.compile(r"^(?P<path>.+):(?P<line>\d+):(?P<col>\d+): (?P<message>\S.*)$", re.DOTALL)

_STATE = SimState(seed=3)
seed_demo(_STATE)
MASTER = parse.bot("fuzz", _STATE.bot(GRID))
CATALOGUE = parse.catalogue("fuzz", sim_catalogue.scripts())
USERS = {u: parse.user("fuzz", _STATE.user(u)) for u in _STATE.user_ids()}

TOKENS = [
    "master",
    "followers",
    "defaults",
    "overrides",
    "scale",
    "limits",
    "locked",
    "user",
    "paused",
    "on_follower_removed",
    "on_master_stopped",
    "on_immutable_change",
    "min",
    "max",
    "investmentAmount",
    "stopValue",
    "symbol",
    "gridMode",
    "stopExit",
    GRID,
    "stop",
    "delete",
    "keep",
    "recreate",
    "flag",
    "true",
    "false",
    "null",
    "~",
    "0",
    "-1",
    "1e309",
    ".nan",
    "0x1F",
    "2024-01-01",
    "'quoted'",
    '"dq"',
    ":",
    ": ",
    "- ",
    "-",
    "{",
    "}",
    "[",
    "]",
    ",",
    "&a ",
    "*a",
    "<<: ",
    "!!python/object:os.system ",
    "!!binary ",
    "!tag ",
    "!!str ",
    "? ",
    "|",
    ">",
    "#",
    "\n",
    "\n  ",
    "\n    ",
    "\t",
    " ",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "\\",
    "\u00e9",
    "\u2028",
    "\ufeff",
    "\x00",
    "\x85",
]


def _check(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_bytes(data)
        policy, problems = loader.load_file(path)
        if policy is None:
            assert problems, "an unreadable file must say why"
        else:
            problems = problems + policy_checks.validate(
                policy, master=MASTER, script=CATALOGUE.script(MASTER.type), users=USERS
            )
            problems = loader.locate(problems, path)
        for problem in problems:
            found = PROBLEM.match(str(problem))
            assert found is not None, str(problem)
            assert found["path"] == str(path)
            assert int(found["line"]) >= 1 and int(found["col"]) >= 1
            assert "Traceback" not in found["message"]


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_give_problems_not_exceptions(data: bytes) -> None:
    _check(data)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=80))
def test_yamlish_text_gives_problems_not_exceptions(tokens: list[str]) -> None:
    _check("".join(tokens).encode("utf-8", "surrogatepass"))


@FUZZ
@given(
    st.lists(
        st.tuples(st.integers(0, len(GRID_POLICY)), st.integers(0, 8), st.sampled_from(TOKENS)),
        max_size=6,
    )
)
def test_mutated_policy_gives_problems_not_exceptions(edits: list[tuple[int, int, str]]) -> None:
    text = GRID_POLICY
    for at, cut, token in edits:
        at = min(at, len(text))
        text = text[:at] + token + text[at + cut :]
    _check(text.encode("utf-8"))
