"""0005 (workers): claim columns on batch items and the workers table, on SQLite and MariaDB, both ways."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import inspect, text

from db.session import current_revision, make_engine, upgrade

NOW = datetime(2026, 12, 3, 12, 0, 0)


@pytest.fixture(params=["sqlite", "mariadb"])
def db_0003(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("mysql_url")
    engine = make_engine(url, migrate=False)
    upgrade(engine, "0003")
    with engine.begin() as c:
        c.execute(text("INSERT INTO batches (id, name, batch_sequence, total_split_batches, status, total, completed, "
                       "failed, skipped, options, source_kind, fingerprint, created_at, updated_at) VALUES "
                       "('b1', 'Old', 1, 1, 'running', 1, 0, 0, 0, '{}', 'csv', 'f', :t, :t)"), {"t": NOW})
        c.execute(text("INSERT INTO batch_items (id, batch_id, position, source, status, attempts, retryable, "
                       "reused) VALUES ('i1', 'b1', 0, 'http://x/1.jpg', 'pending', 0, 1, 0)"))
    yield engine
    engine.dispose()


def test_0005_adds_claim_columns_and_workers_and_goes_back(db_0003):

    upgrade(db_0003, "0005")
    assert current_revision(db_0003) == "0005"
    cols = {c["name"] for c in inspect(db_0003).get_columns("batch_items")}
    assert {"dispatched_at", "task_id", "worker"} <= cols
    assert "ix_batch_items_dispatch" in {i["name"] for i in inspect(db_0003).get_indexes("batch_items")}
    with db_0003.begin() as c:
        row = c.execute(text("SELECT status, dispatched_at, task_id FROM batch_items WHERE id = 'i1'")).one()
        assert tuple(row) == ("pending", None, None)
        c.execute(text("INSERT INTO workers (name, host, pid, queue, concurrency, tasks_done, started_at, "
                       "last_seen_at) VALUES ('w1@h', 'h', 1, 'q', 2, 0, :t, :t)"), {"t": NOW})

    from alembic import command

    from db.session import _alembic_config

    cfg = _alembic_config(db_0003)
    with db_0003.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
        conn.commit()
    assert current_revision(db_0003) == "0003"
    assert "workers" not in inspect(db_0003).get_table_names()
    assert "task_id" not in {c["name"] for c in inspect(db_0003).get_columns("batch_items")}
    with db_0003.connect() as c:
        assert c.execute(text("SELECT count(*) FROM batch_items")).scalar() == 1
