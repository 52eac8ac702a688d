"""The bad policy corpus through ``copytrader policy check`` and a reconcile pass.

Every file must be reported as ``PATH:LINE:COL: message`` (exit 2 from ``policy check``),
and a reconcile pass applies nothing of it: no write for its master or followers, while a
good file next to them is applied as usual.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from copytrader.core.policy import Problem
from copytrader.reconcile import wiring
from copytrader.sim.haas.seed import DEMO
from copytrader.sim.haas.server import SimServer
from copytrader.store import queries
from tests.reliability.conftest import F1, F2, F3, GRID, GRID_POLICY, KEY, MASTERS, SettingsFactory
from tests.reliability.corpus import cases as corpus
from tests.reliability.daemon import DaemonProcess, free_port
from tests.reliability.support import (
    assert_one_clone_each,
    run_cli,
    subprocess_env,
    write_requests,
)
from tests.world import write_policy


def _pwned() -> bool:
    """Whether tag_python_object.yaml's command ran."""
    return Path("/tmp/copytrader-pwned").exists()


def _all_cases(folder: Path) -> list[corpus.Case]:
    return [*corpus.CASES, *corpus.generated(folder)]


@pytest.fixture
def corpus_dir(policy_dir: Path) -> Path:
    """The policy folder: every corpus file, the generated big ones and one good file."""
    for case in corpus.CASES:
        shutil.copyfile(corpus.FOLDER / case.file, policy_dir / case.file)
    return policy_dir


@pytest.fixture
async def corpus_sim(sim: SimServer) -> AsyncIterator[SimServer]:
    """The demo world plus one running spot-grid master per corpus file."""
    settings = sim.state.bot(GRID)["settings"]
    for case in corpus.CASES:
        master = corpus.master_of(case.file)
        if master is not None:
            sim.state.create_bot(DEMO.spot_owner, "spot_grid", settings, bot_id=master)
    yield sim


def test_every_corpus_file_is_indexed() -> None:
    on_disk = {p.name for p in corpus.FOLDER.iterdir() if p.suffix in (".yaml", ".yml")}
    indexed = {c.file for c in corpus.CASES}
    assert on_disk == indexed
    assert len(indexed) >= 40
    masters = [m for m in map(corpus.master_of, sorted(indexed)) if m is not None]
    assert len(set(masters)) == len(masters) >= 40, "each file names its own master"


def _by_file(text_lines: list[str], folder: Path) -> dict[str, list[str]]:
    """File name -> every ``LINE:COL: message`` reported for it."""
    found: dict[str, list[str]] = {}
    prefix = str(folder) + "/"
    for line in text_lines:
        assert line.startswith(prefix), f"not PATH:LINE:COL: message: {line!r}"
        name, rest = line[len(prefix) :].split(":", 1)
        found.setdefault(name, []).append(rest)
    return found


def _mismatches(found: dict[str, list[str]], cases: list[corpus.Case]) -> list[str]:
    """Cases without a reported problem that has their fragment at their position."""
    bad = []
    for case in cases:
        got = found.get(case.file, [])
        with_text = [g for g in got if case.fragment in g]
        if not with_text:
            bad.append(f"{case.file}: {got!r} lacks {case.fragment!r}")
        elif not any(g.startswith(f"{case.at}: ") for g in with_text):
            bad.append(f"{case.file}: {with_text!r} is not at {case.at}")
    return bad


async def test_policy_check_reports_every_file_with_position(
    corpus_sim: SimServer, corpus_dir: Path
) -> None:
    cases = _all_cases(corpus_dir)
    env = subprocess_env(
        COPYTRADER_API_URL=corpus_sim.url,
        COPYTRADER_API_KEY=KEY,
        COPYTRADER_POLICY_DIR=str(corpus_dir),
    )
    code, out, err = await run_cli("policy", "check", env=env)
    assert code == 2, err
    assert "Traceback" not in err
    found = _by_file(out.splitlines(), corpus_dir)
    assert _mismatches(found, cases) == []
    assert "grid.yaml" not in found, found.get("grid.yaml")
    assert write_requests(corpus_sim.state) == [], "policy check sent a write"
    assert not _pwned(), "a YAML tag ran code"


async def test_reconcile_applies_nothing_of_a_bad_file(
    corpus_sim: SimServer, corpus_dir: Path, make_settings: SettingsFactory
) -> None:
    cases = [c for c in _all_cases(corpus_dir) if not c.check_only]
    async with wiring.open_writer(make_settings()) as svc:
        result = await svc.reconciler.run_pass()
        problems: tuple[Problem, ...] = result.problems
        found = _by_file([str(p) for p in problems], corpus_dir)
        assert _mismatches(found, cases) == []
        # The good file was applied, and nothing else was written.
        assert_one_clone_each(corpus_sim.state, (F1, F2, F3), MASTERS)
        foreign = [
            r
            for r in write_requests(corpus_sim.state)
            if r.path == "/bots/clone" and (r.body or {}).get("botId") != GRID
        ]
        assert foreign == []
        assert len(write_requests(corpus_sim.state)) == 6  # 3 clones, 3 starts
        invalid = await queries.audit(svc.store, action="policy_invalid")
        assert {Path(e["policy_file"]).name for e in invalid} == {c.file for c in cases}
        # The same broken files are not reported again on the next pass.
        again = await svc.reconciler.run_pass()
        assert again.plan.actions == ()
        assert len(await queries.audit(svc.store, action="policy_invalid")) == len(invalid)
    # Nor by another process on the same database (a cron reconcile, a restarted daemon).
    async with wiring.open_writer(make_settings()) as svc:
        await svc.reconciler.run_pass()
        assert len(await queries.audit(svc.store, action="policy_invalid")) == len(invalid)


async def test_two_files_for_one_master_are_both_refused(
    sim: SimServer, policy_dir: Path, make_settings: SettingsFactory
) -> None:
    write_policy(policy_dir, "grid-copy.yaml", GRID_POLICY)
    async with wiring.open_writer(make_settings()) as svc:
        result = await svc.reconciler.run_pass()
    files = {Path(p.file).name for p in result.problems}
    assert files == {"grid.yaml", "grid-copy.yaml"}
    assert all(GRID in p.message for p in result.problems), [str(p) for p in result.problems]
    assert write_requests(sim.state) == []


@pytest.mark.slow
async def test_running_daemon_survives_the_corpus(
    corpus_sim: SimServer, policy_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = subprocess_env(
        COPYTRADER_API_URL=corpus_sim.url,
        COPYTRADER_API_KEY=KEY,
        COPYTRADER_DATABASE_URL=f"sqlite:///{tmp_path / 'ct.db'}",
        COPYTRADER_POLICY_DIR=str(policy_dir),
        COPYTRADER_INTERVAL_SECONDS="0.5",
        COPYTRADER_HTTP_LISTEN=f"127.0.0.1:{port}",
    )
    daemon = DaemonProcess(env, tmp_path / "daemon.log", port)
    await daemon.start()
    try:
        await daemon.wait_listening()
        # The bad files arrive while it runs, in a few batches.
        names = [c.file for c in corpus.CASES]
        for start in range(0, len(names), 15):
            for name in names[start : start + 15]:
                shutil.copyfile(corpus.FOLDER / name, policy_dir / name)
            await asyncio.sleep(0.7)
        corpus.generated(policy_dir)
        await asyncio.sleep(2.0)
        assert daemon.alive, daemon.tail()
        status, _ = await daemon.get("/healthz")
        assert status in (200, 503)
    finally:
        assert await daemon.terminate() == 0, daemon.tail()
    assert_one_clone_each(corpus_sim.state, (F1, F2, F3), MASTERS)
    foreign = [
        r
        for r in write_requests(corpus_sim.state)
        if r.path == "/bots/clone" and (r.body or {}).get("botId") != GRID
    ]
    assert foreign == []
    assert "Traceback" not in daemon.log.read_text(encoding="utf-8")
