"""products/bulk end to end: products with catalog fields, their photos fetched by the bulk engine, to review."""
from __future__ import annotations

import json

from api_server import is_problem, wait_for


def test_bulk_products_go_to_review_with_variants(server, photo_server):
    body = {"mode": "OPTIMIZE", "variants": 2, "products": [
        {"sku_id": "BULK-TEE", "raw_image": photo_server.url("/img/301.jpg"),
         "images": [photo_server.url("/img/302.jpg")], "name": "Plain tee", "category": "apparel",
         "mrp": 999, "price": 799, "discount": 20, "gst": 12},
        {"sku_id": "BULK-CAP", "raw_image": photo_server.url("/img/303.jpg"), "name": "Cap"}]}
    r = server.call("POST", "/products/bulk", "operator", json=body, headers={"Idempotency-Key": "bulk-1"})
    assert r.status_code == 202, r.text
    out = r.json()
    assert out["success"] and out["data"]["created"] == 2 and out["data"]["batch_id"]
    assert [p["status"] for p in out["data"]["products"]] == ["pending", "pending"]
    tee = out["data"]["products"][0]

    again = server.call("POST", "/products/bulk", "operator", json=body, headers={"Idempotency-Key": "bulk-1"})
    assert again.status_code == 202 and again.json() == out  # the retry made nothing new

    seen = set()

    def look():
        p = server.call("GET", f"/products/{tee['id']}", "viewer").json()
        seen.add(p["status"])
        return p

    product = wait_for(look, lambda p: p["status"] == "pending_review" and len(p["images"]) == 2)
    assert product["status"] == "pending_review" and len(product["images"]) == 2, json.dumps(product)
    assert seen <= {"pending", "processing", "pending_review"}
    assert (product["name"], product["category"], product["mrp"], product["price"], product["gst"]) == \
        ("Plain tee", "apparel", 999.0, 799.0, 12.0)
    for img in product["images"]:
        assert img["status"] == "COMPLETED" and img["review_status"] == "pending_review"
        history = server.call("GET", f"/images/{img['id']}/enhancement-history", "viewer").json()
        assert len(history["enhancements"]) == 2  # two variants to choose between
    cap = wait_for(lambda: server.call("GET", "/products/BULK-CAP", "viewer").json(),
                   lambda p: p["status"] == "pending_review")
    assert cap["status"] == "pending_review" and len(cap["images"]) == 1

    batches = server.call("GET", "/batches", "viewer").json()["batches"]
    assert sum(1 for b in batches if b["batch_id"] == out["data"]["batch_id"]) == 1
    # the runner records an item's outcome just after its photo is done: the batch trails the products briefly
    status = wait_for(lambda: server.call("GET", f"/batches/{out['data']['batch_id']}/status", "viewer").json(),
                      lambda st: st["status"] == "completed")
    assert (status["status"], status["completed"], status["total"]) == ("completed", 3, 3), json.dumps(status)


def test_bulk_refuses_bad_requests(server, photo_server):
    url = photo_server.url("/img/310.jpg")
    is_problem(server.call("POST", "/products/bulk", "operator", json={"products": []}), 422)
    no_photo = is_problem(server.call("POST", "/products/bulk", "operator",
                                      json={"products": [{"sku_id": "X"}]}), 422)
    assert "raw_image" in no_photo["detail"] + str(no_photo["errors"])
    is_problem(server.call("POST", "/products/bulk", "operator",
                           json={"products": [{"sku_id": "X", "raw_image": "ftp://x/y.jpg"}]}), 400)
    is_problem(server.call("POST", "/products/bulk", "operator",
                           json={"mode": "NOPE", "products": [{"sku_id": "X", "raw_image": url}]}), 400)
    is_problem(server.call("POST", "/products/bulk", "operator",
                           json={"products": [{"sku_id": "X", "raw_image": url, "price": -1}]}), 400)
    is_problem(server.call("POST", "/products/bulk", "viewer",
                           json={"products": [{"sku_id": "X", "raw_image": url}]}), 403)
    assert server.call("GET", "/products/X", "viewer").status_code == 404  # nothing was created
