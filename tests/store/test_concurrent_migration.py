"""Several processes opening a new SQLite database at once all succeed: the first migrates,
the others wait for its write lock and find the schema at head."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path


async def test_concurrent_first_use_of_a_new_sqlite_database(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    env = {**os.environ, "COPYTRADER_DATABASE_URL": f"sqlite:///{db}"}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "copytrader.cli.main",
            "db",
            "upgrade",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(4)
    ]
    results = await asyncio.gather(*(p.communicate() for p in procs))
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err.decode()
    with sqlite3.connect(db) as conn:
        (version,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version
