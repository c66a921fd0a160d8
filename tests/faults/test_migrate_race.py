"""Eight processes starting at once on a brand-new database all migrate it without an error."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

ROOT = Path(__file__).resolve().parents[2]
N = 8
# Each child imports everything first, then waits for the gate file so the eight upgrades really overlap.
CHILD = """
import sys, time, os
from db.session import make_engine
gate = sys.argv[2]
while not os.path.exists(gate):
    time.sleep(0.005)
try:
    make_engine(sys.argv[1]).dispose()
except Exception as exc:
    print(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    sys.exit(1)
"""


def _race(url: str, tmp_path: Path) -> list[str]:
    gate = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, url, str(gate)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(N)]
    time.sleep(3)  # the children import SQLAlchemy/alembic, then wait at the gate
    gate.touch()
    failures = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        if p.returncode:
            failures.append(out.strip().splitlines()[-1] if out.strip() else f"exit {p.returncode}")
    return failures


def _check(url: str) -> None:
    from db.session import MIGRATIONS  # noqa: F401  (the head revision comes from the scripts)
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    eng = create_engine(url)
    try:
        with eng.connect() as conn:
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == head
            assert conn.scalar(text("SELECT COUNT(*) FROM alembic_version")) == 1
        assert {"product_images", "enhancement_history", "batches", "batch_items"} <= set(inspect(eng).get_table_names())
    finally:
        eng.dispose()


def test_parallel_first_start_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh' / 'pixel_lab.db'}"
    failures = _race(url, tmp_path)
    assert failures == [], f"{len(failures)}/{N} processes failed: {failures}"
    _check(url)


def test_parallel_first_start_on_mariadb(mysql_url, tmp_path):
    failures = _race(mysql_url, tmp_path)
    assert failures == [], f"{len(failures)}/{N} processes failed: {failures}"
    _check(mysql_url)


HOLD = """
import sys, time
from sqlalchemy import create_engine
from db.session import _migration_lock
eng = create_engine(sys.argv[1])
with _migration_lock(eng, 5):
    print("held", flush=True)
    time.sleep(600)
"""


def _killed_holder_does_not_block(url: str) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, url], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    from db.session import make_engine

    with pytest.raises(TimeoutError, match="another process"):  # held: a second migrator waits, then says why
        make_engine(url, migrate_timeout_s=1).dispose()
    holder.kill()  # SIGKILL: no chance to release
    holder.wait(10)
    t0 = time.monotonic()
    make_engine(url, migrate_timeout_s=30).dispose()
    assert time.monotonic() - t0 < 15
    _check(url)


def test_a_killed_migrator_does_not_block_the_next_start_sqlite(tmp_path):
    _killed_holder_does_not_block(f"sqlite:///{tmp_path / 'pixel_lab.db'}")


def test_a_killed_migrator_does_not_block_the_next_start_mariadb(mysql_url):
    _killed_holder_does_not_block(mysql_url)
