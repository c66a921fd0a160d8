"""A batch's lifecycle through the API: create (split into parts), watch, pause, resume, cancel, retry,
related parts and their aggregated status, export, delete."""
from __future__ import annotations

import csv
import io
import json

from api_server import is_problem, wait_for
from enhancer.batch.intake import manifest_bytes

DONE = ("completed", "failed", "cancelled")


def create(server, rows, name, role="operator", headers=None, **fields):
    data = {"batch_name": name, "mode": "OPTIMIZE", **{k: str(v) for k, v in fields.items()}}
    return server.call("POST", "/batches", role, files={"file": (f"{name}.csv", manifest_bytes(rows), "text/csv")},
                       data=data, headers=headers)


def status(server, batch_id):
    return server.call("GET", f"/batches/{batch_id}/status", "viewer").json()


def test_a_split_batch_runs_to_the_end_and_exports(server, photo_server):
    rows = [{"sku_id": f"SPLIT-{i}", "image_url": photo_server.url(f"/img/{400 + i}.jpg")} for i in range(6)]
    r = create(server, rows, "split", headers={"Idempotency-Key": "split-1"})
    assert r.status_code == 202, r.text
    parts = r.json()["batches"]
    assert [p["batch_name"] for p in parts] == ["split_Part1of2", "split_Part2of2"]  # MAX_BATCH_SIZE=4
    assert [p["total"] for p in parts] == [4, 2] and {p["parent_batch_id"] for p in parts} == {parts[0]["batch_id"]}
    replay = create(server, rows, "split", headers={"Idempotency-Key": "split-1"})
    assert replay.json() == r.json() and replay.headers["Idempotent-Replayed"] == "true"

    parent = parts[0]["parent_batch_id"]
    agg = wait_for(lambda: server.call("GET", f"/batches/parent/{parent}/status", "viewer").json(),
                   lambda a: a["status"] in DONE)
    assert (agg["status"], agg["total"], agg["completed"], agg["pending"]) == ("completed", 6, 6, 0)
    one = status(server, parts[1]["batch_id"])
    assert {"batch_id", "status", "total", "completed", "failed", "skipped", "pending", "images_per_minute",
            "eta_s"} <= set(one)
    assert (one["status"], one["completed"], one["pending"]) == ("completed", 2, 0)
    related = server.call("GET", f"/batches/related/{parts[1]['batch_id']}", "viewer").json()
    assert [b["batch_id"] for b in related["batches"]] == [p["batch_id"] for p in parts]

    got = server.call("GET", "/batch-data/export", "viewer", params={"format": "csv", "batch_id": parent})
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert [row["status"] for row in csv.DictReader(io.StringIO(got.text))] == ["completed"] * 4
    everything = server.call("GET", "/batch-data/export", "viewer", params={"format": "json"})
    assert {r["batch_id"] for r in json.loads(everything.content)} >= {p["batch_id"] for p in parts}
    xlsx = server.call("GET", "/batch-data/export", "viewer", params={"format": "xlsx", "batch_id": parent})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    is_problem(server.call("GET", "/batch-data/export", "viewer", params={"format": "pdf"}), 400)
    is_problem(server.call("GET", "/batch-data/export", "viewer", params={"batch_id": "nope"}), 404)

    is_problem(server.call("DELETE", f"/batches/{parent}", "operator"), 403)
    gone = server.call("DELETE", f"/batches/{parent}", "admin")
    assert gone.status_code == 200 and gone.json()["batches"] == 2 and gone.json()["images"] == 6
    is_problem(server.call("GET", f"/batches/{parent}/status", "viewer"), 404)


def test_pause_resume_cancel_and_retry(server, photo_server):
    slow = [{"sku_id": f"SLOW-{i}", "image_url": photo_server.url(f"/lag/{450 + i}.jpg")} for i in range(4)]
    bid = create(server, slow, "slow", workers=1).json()["batches"][0]["batch_id"]
    paused = server.call("POST", f"/batches/{bid}/pause", "operator")
    assert paused.status_code == 200, paused.text
    st = wait_for(lambda: status(server, bid), lambda s: s["status"] == "paused" or s["status"] in DONE)
    if st["status"] == "paused":  # (a fast machine may have finished the four photos first)
        assert st["completed"] < 4
        is_problem(server.call("POST", f"/batches/{bid}/pause", "operator"), 409)  # not running now
        resumed = server.call("POST", f"/batches/{bid}/resume", "operator").json()
        assert resumed["status"] == "queued" and resumed["started"]
    st = wait_for(lambda: status(server, bid), lambda s: s["status"] in DONE)
    assert (st["status"], st["completed"]) == ("completed", 4)
    is_problem(server.call("POST", f"/batches/{bid}/cancel", "operator"), 409)  # already finished

    more = [{"sku_id": f"CANCEL-{i}", "image_url": photo_server.url(f"/lag/{460 + i}.jpg")} for i in range(12)]
    cid = create(server, more, "cancel", workers=1).json()["batches"][0]["batch_id"]
    assert server.call("POST", f"/batches/{cid}/cancel", "operator").status_code == 200
    st = wait_for(lambda: status(server, cid), lambda s: s["status"] in DONE and s["pending"] == 0)
    assert st["status"] == "cancelled" and st["completed"] < 12 and st["skipped"] > 0

    photo_server.revived = False  # (the server is shared by both setups)
    gone = [{"sku_id": "GONE-1", "image_url": photo_server.url("/gone/470.jpg")},
            {"sku_id": "GONE-2", "image_url": photo_server.url("/img/471.jpg")}]
    rid = create(server, gone, "retry").json()["batches"][0]["batch_id"]
    st = wait_for(lambda: status(server, rid), lambda s: s["status"] in DONE)
    assert (st["completed"], st["failed"]) == (1, 1) and st["recent_failures"]
    photo_server.revive()
    assert server.call("POST", f"/batches/{rid}/retry", "operator").json()["started"]
    st = wait_for(lambda: status(server, rid), lambda s: s["status"] in DONE and s["failed"] == 0)
    assert (st["status"], st["completed"], st["failed"]) == ("completed", 2, 0)


def test_batch_errors(server):
    bad = server.call("POST", "/batches", "operator", files={"file": ("x.pdf", b"%PDF-1.4", "application/pdf")})
    is_problem(bad, 415)
    no_cols = server.call("POST", "/batches", "operator", files={"file": ("m.csv", b"a,b\n1,2\n", "text/csv")})
    assert "sku_id" in is_problem(no_cols, 400)["detail"]
    is_problem(server.call("POST", "/batches", "viewer", files={"file": ("m.csv", b"x", "text/csv")}), 403)
    is_problem(server.call("GET", "/batches/nope/status", "viewer"), 404)
    is_problem(server.call("POST", "/batches/nope/pause", "operator"), 404)
    is_problem(server.call("POST", "/batches/nope/explode", "operator"), 422)
    is_problem(server.call("GET", "/batches/related/nope", "viewer"), 404)
    is_problem(server.call("GET", "/batches/parent/nope/status", "viewer"), 404)
