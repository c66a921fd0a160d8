"""The CLI as operators run it: a real subprocess, JSON on stdout, messages on stderr."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import env_for
from support import photo_bytes

ROOT = Path(__file__).resolve().parents[2]


def _head() -> str:
    from alembic.script import ScriptDirectory

    from db.session import MIGRATIONS

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def run(args, env, cwd):
    full = {k: v for k, v in os.environ.items() if not k.startswith(("MYSQL_", "S3_", "DATABASE_URL", "GEMINI"))}
    full.update(env, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-m", "enhancer", *args], capture_output=True, text=True, env=full,
                       cwd=cwd, timeout=120)
    return p.returncode, p.stdout, p.stderr


@pytest.fixture
def cli(backend, tmp_path):
    url, storage = backend
    env = env_for(url, storage, tmp_path)
    return lambda *args: run(args, env, tmp_path)


def test_enhance_images_history_reenhance(cli, tmp_path):
    a, b = tmp_path / "shoe one.jpg", tmp_path / "bag.png"
    a.write_bytes(photo_bytes(seed=1))
    b.write_bytes(photo_bytes("chelsea", fmt="PNG", seed=2))
    rc, out, err = cli("enhance", str(a), str(b), "--mode", "optimize", "--target-kb", "60", "--format", "webp")
    assert rc == 0, err
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["sku_id"] for r in results] == ["shoe_one", "bag"]
    for r in results:
        assert r["success"] and r["enhanced_size_kb"] <= 60 and r["format"] == "WEBP"
        assert {"image_id", "database_id", "original_url", "enhanced_url", "original_size_kb",
                "size_reduction_percent", "quality_before", "quality_after", "processing_time_ms",
                "enhancement_mode"} <= r.keys()

    rc, out, _ = cli("images", "--limit", "1", "--search", "sho")
    page = json.loads(out)
    assert rc == 0 and page["total"] == 1 and page["limit"] == 1 and page["images"][0]["sku_id"] == "shoe_one"
    assert {"id", "image_url", "enhanced_image_url", "original_size_kb", "enhanced_size_kb", "status"} \
        <= page["images"][0].keys()

    iid = results[0]["image_id"]
    rc, out, err = cli("reenhance", iid, "--mode", "LIGHT_CORRECTION")
    assert rc == 0, err and json.loads(out)["enhancement_sequence"] == 2
    rc, out, _ = cli("history", iid)
    hist = json.loads(out)
    assert rc == 0 and hist["image_id"] == iid and hist["filename"] == "shoe one.jpg"
    assert [e["enhancement_sequence"] for e in hist["enhancements"]] == [1, 2]
    assert [e["enhancement_mode"] for e in hist["enhancements"]] == ["OPTIMIZE", "LIGHT_CORRECTION"]
    assert {"quality_metadata", "size_metadata", "enhanced_https_url", "review_status"} <= hist["enhancements"][0].keys()


def test_bad_and_missing_files_exit_2_without_traceback(cli, tmp_path):
    bad = tmp_path / "notes.jpg"
    bad.write_text("this is not a photo")
    rc, out, err = cli("enhance", str(bad))
    assert rc == 2 and out == "" and "not an image" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    rc, out, err = cli("enhance", str(tmp_path / "missing.jpg"))
    assert rc == 2 and "No such file" in err and "Traceback" not in err
    rc, out, _ = cli("images")
    assert json.loads(out)["total"] == 0


def test_bad_options_and_unknown_ids(cli, tmp_path):
    rc, _, err = cli("enhance", "x.jpg", "--mode", "sparkle")
    assert rc == 2 and "valid modes" in err
    rc, _, err = cli("history", "no-such-id")
    assert rc == 2 and "No image" in err
    f = tmp_path / "a.jpg"
    f.write_bytes(photo_bytes())
    rc, _, err = cli("enhance", str(f), "--target-kb", "10")
    assert rc == 2 and "between 50 and 2000" in err


def test_check_and_init_db(cli):
    rc, out, err = cli("init-db")
    assert rc == 0 and json.loads(out)["revision"] == _head()
    rc, out, err = cli("check")
    assert rc == 0 and "✓ database" in err and "✓ storage" in err
    report = json.loads(out)
    assert report["ok"] and report["settings"]["aws_secret_access_key"] in ("not set", "set (****)")
    assert "testing" not in out  # the secret key never appears


def test_check_reports_unreachable_database(tmp_path):
    env = {"DATABASE_URL": "mysql+pymysql://root@127.0.0.1:1/nope", "STORAGE_DIR": str(tmp_path / "s")}
    rc, out, err = run(["check"], env, tmp_path)
    assert rc == 1 and "✗ database" in err and "Traceback" not in err


def test_bad_configuration_names_the_variable(tmp_path):
    rc, _, err = run(["check"], {"MAX_UPLOAD_MB": "lots"}, tmp_path)
    assert rc == 2 and "MAX_UPLOAD_MB" in err


def test_create_bucket(moto_endpoint, tmp_path):
    env = {"S3_BUCKET": "fresh-bucket-cli", "S3_ENDPOINT_URL": moto_endpoint, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "PIXEL_LAB_DATA_DIR": str(tmp_path)}
    rc, out, err = run(["create-bucket"], env, tmp_path)
    assert rc == 0, err and json.loads(out) == {"bucket": "fresh-bucket-cli", "created": True}
    rc, out, _ = run(["create-bucket"], env, tmp_path)
    assert json.loads(out)["created"] is False


def test_catalog_commands(cli, tmp_path):
    """enhance --sku adds photos to one product; product, products, images --sku, review, delete."""
    files = []
    for i, name in enumerate(("front.jpg", "back.jpg", "side.png")):
        f = tmp_path / name
        f.write_bytes(photo_bytes(("astronaut", "chelsea", "coffee")[i], seed=i, fmt="PNG" if i == 2 else "JPEG"))
        files.append(str(f))
    out_dir = tmp_path / "out"
    rc, out, err = cli("enhance", *files, "--sku", "SHOE 42", "--mode", "OPTIMIZE", "--output", str(out_dir))
    assert rc == 0, err
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["position"] for r in results] == [1, 2, 3] and len({r["product_id"] for r in results}) == 1
    assert all((out_dir / Path(r["output_path"]).name).is_file() for r in results)

    rc, out, _ = cli("product", "SHOE 42")
    product = json.loads(out)
    assert rc == 0 and product["sku_id"] == "SHOE 42" and product["status"] == "approved"
    assert [i["position"] for i in product["images"]] == [1, 2, 3] and product["images"][0]["is_main"]
    assert {"id", "status", "review_status", "image_url", "enhanced_image_url"} <= product["images"][0].keys()
    rc, out, _ = cli("products", "--search", "shoe", "--status", "approved")
    page = json.loads(out)
    assert page["total"] == 1 and page["products"][0]["id"] == product["id"]
    rc, out, _ = cli("images", "--sku", "SHOE 42")
    assert json.loads(out)["total"] == 3

    rc, out, err = cli("reenhance", results[0]["image_id"], "--mode", "AUTO", "--variants", "2")
    variants = json.loads(out)
    assert rc == 0, err and variants["review_status"] == "pending_review"
    rc, out, _ = cli("review", variants["variants"][0]["database_id"], "--approve", "--actor", "ann")
    assert rc == 0 and json.loads(out)["decision"] == "approved" and json.loads(out)["actor"] == "ann"
    rc, out, _ = cli("history", results[0]["image_id"])
    hist = json.loads(out)
    assert hist["reviewed_by"] == "ann" and [e["review_status"] for e in hist["enhancements"]] == \
        ["rejected", "rejected", "approved"]

    rc, _, err = cli("delete", "image", results[1]["image_id"])  # no terminal to ask: refused
    assert rc == 2 and "--yes" in err
    rc, out, _ = cli("delete", "image", results[1]["image_id"], "--yes")
    assert rc == 0 and json.loads(out)["images"] == 1
    rc, out, _ = cli("delete", "product", "SHOE 42", "--yes")
    assert rc == 0 and json.loads(out)["images"] == 2
    rc, out, _ = cli("products")
    assert json.loads(out)["total"] == 0


def test_bad_limits_and_skus_exit_2(cli, tmp_path):
    rc, _, err = cli("images", "--limit", "-5")
    assert rc == 2 and "between 1 and 1000" in err
    f = tmp_path / "a.jpg"
    f.write_bytes(photo_bytes())
    rc, out, err = cli("enhance", str(f), "--sku", "x" * 300)
    assert rc == 2 and "at most 128" in err and out == ""
    rc, _, err = cli("review", "no-such-id", "--approve")
    assert rc == 2 and "No enhancement" in err
