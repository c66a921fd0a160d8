"""The batch CLI in a subprocess: kill mid-batch then resume, split via MAX_BATCH_SIZE, exit codes, exports."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, func, select, text

from db.models import ProductImage

from batch.photoserver import write_manifest

ROOT = Path(__file__).resolve().parents[2]


def cli_env(tmp_path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "MYSQL_", "S3_", "STORAGE_"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'pl.db'}", STORAGE_DIR=str(tmp_path / "storage"),
               PIXEL_LAB_DATA_DIR=str(tmp_path / "data"), PIXEL_LAB_ALLOW_PRIVATE_URLS="1",
               PYTHONPATH=str(ROOT), **extra)
    return env


def cli(args, env, cwd, **kw):
    return subprocess.run([sys.executable, "-m", "enhancer", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=kw.pop("timeout", 300), **kw)


def test_kill_mid_batch_then_resume_processes_each_item_once(photo_server, tmp_path):
    n = 24
    rows = [{"sku_id": f"K-{i}", "image_url": photo_server.url(f"/lag/{200 + i}.jpg")} for i in range(n)]
    manifest = write_manifest(tmp_path / "kill.csv", rows)
    env = cli_env(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "enhancer", "batch", manifest, "--mode", "optimize",
                             "--target-kb", "60", "--workers", "2"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    engine = create_engine(f"sqlite:///{tmp_path / 'pl.db'}")
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with engine.connect() as c:
                done = c.scalar(text("SELECT count(*) FROM batch_items WHERE status = 'completed'"))
        except Exception:
            done = 0  # tables not created yet
        if done >= 3:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    with engine.connect() as c:
        bid, status = c.execute(text("SELECT id, status FROM batches")).one()
        left = c.scalar(text("SELECT count(*) FROM batch_items WHERE status IN ('pending', 'running')"))
    assert status == "running" and left > 0  # it really was cut off mid-batch
    assert json.loads(cli(["batch-status", bid], env, tmp_path).stdout)["stalled"] is True

    res = cli(["batch-resume", bid, "--workers", "2"], env, tmp_path)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["batch_id"] == bid and out["total"] == n and out["completed"] + out["skipped"] == n
    assert out["failed"] == 0
    with engine.connect() as c:
        images = c.scalar(select(func.count()).select_from(ProductImage.__table__))
        skus = c.execute(text("SELECT sku_id, count(*) FROM product_images GROUP BY sku_id HAVING count(*) > 1"))
        assert images == n and skus.all() == []
        linked = c.scalar(text("SELECT count(DISTINCT product_image_id) FROM batch_items"))
        assert linked == n
        history = c.scalar(text("SELECT count(*) FROM enhancement_history"))
        assert history == n  # nothing enhanced twice
    engine.dispose()


def test_split_manifest_via_env_and_exports(photo_server, tmp_path):
    rows = [{"sku_id": f"S-{i}", "image_url": photo_server.url(f"/img/{300 + i}.jpg")} for i in range(5)]
    rows.append({"sku_id": "S-bad", "image_url": photo_server.url("/404")})
    manifest = write_manifest(tmp_path / "Spring Drop.csv", rows)
    env = cli_env(tmp_path, MAX_BATCH_SIZE="4")
    res = cli(["batch", manifest, "--mode", "optimize", "--target-kb", "60", "--name", "Drop"], env, tmp_path)
    assert res.returncode == 1, res.stderr  # one item failed, still recorded
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert set(out) >= {"batch_id", "total", "completed", "failed", "skipped", "elapsed_s", "images_per_minute"}
    assert (out["total"], out["completed"], out["failed"]) == (6, 5, 1) and len(out["batch_ids"]) == 2
    assert "ok 4" in res.stderr and "/min" in res.stderr  # the progress line

    listing = json.loads(cli(["batches"], env, tmp_path).stdout)["batches"]
    assert sorted(b["name"] for b in listing) == ["Drop_Part1of2", "Drop_Part2of2"]
    second = out["batch_ids"][1]
    status = json.loads(cli(["batch-status", second], env, tmp_path).stdout)
    assert status["total"] == 2 and status["failed"] == 1 and "404" in status["recent_failures"][0]["error"]

    csv = cli(["batch-export", out["batch_ids"][0], "--format", "csv"], env, tmp_path)
    df = pd.read_csv(io.StringIO(csv.stdout))
    assert list(df["sku_id"]) == ["S-0", "S-1", "S-2", "S-3"] and set(df["status"]) == {"completed"}
    for fmt, reader in (("json", pd.read_json), ("xlsx", pd.read_excel)):
        path = tmp_path / f"export.{fmt}"
        assert cli(["batch-export", second, "--format", fmt, "--output", str(path)], env, tmp_path).returncode == 0
        df = reader(path)
        assert list(df["sku_id"]) == ["S-4", "S-bad"] and list(df["status"]) == ["completed", "failed"]
        assert df["enhanced_size_bytes"].iloc[0] <= 60 * 1024

    # Re-running the same manifest does nothing new.
    again = cli(["batch", manifest, "--mode", "optimize", "--target-kb", "60", "--name", "Drop"], env, tmp_path)
    assert json.loads(again.stdout.strip().splitlines()[-1])["batch_ids"] == out["batch_ids"]


def test_bad_input_exits_2(tmp_path):
    env = cli_env(tmp_path)
    (tmp_path / "m.csv").write_text("name,link\nA,http://x\n")
    res = cli(["batch", str(tmp_path / "m.csv")], env, tmp_path)
    assert res.returncode == 2 and "missing column" in res.stderr and res.stdout == ""
    assert cli(["batch", str(tmp_path / "nope.zip")], env, tmp_path).returncode == 2
    assert cli(["batch-status", "no-such-id"], env, tmp_path).returncode == 2
    (tmp_path / "photos").mkdir()
    res = cli(["batch", str(tmp_path / "photos"), "--target-kb", "10"], env, tmp_path)
    assert res.returncode == 2 and "--target-kb" in res.stderr
    res = cli(["batch", str(tmp_path / "photos"), "--profile", "nowhere"], env, tmp_path)
    assert res.returncode == 2 and "valid profiles" in res.stderr
