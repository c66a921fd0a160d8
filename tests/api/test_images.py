"""Upload, list, read, download, re-enhance, review and delete through the API, on a real server."""
from __future__ import annotations

import pytest
from api_server import is_problem, upload
from support import decode, photo_bytes, ssim

UPLOAD_FIELDS = {"success", "image_id", "database_id", "product_id", "sku_id", "original_url", "enhanced_url",
                 "original_size_kb", "enhanced_size_kb", "size_reduction_percent", "quality_before",
                 "quality_after", "processing_time_ms", "enhancement_mode"}


@pytest.fixture(scope="module")
def first(server):
    """One upload every read test shares: 640x480 astronaut, OPTIMIZE to 60 KB under SKU SHOE-1."""
    r = upload(server, photo_bytes(seed=1), "Red Shoe.jpg", mode="OPTIMIZE", target_size_kb=60, sku_id="SHOE-1")
    assert r.status_code == 200, r.text
    return r.json()


def test_upload_answers_the_original_fields(server, first):
    assert UPLOAD_FIELDS <= set(first)
    assert first["success"] and first["sku_id"] == "SHOE-1" and first["enhancement_mode"] == "OPTIMIZE"
    assert first["enhanced_size_kb"] <= 60 and first["review_status"] == "approved"


def test_list_images_pages_and_filters(server, first):
    r = server.call("GET", "/images", "viewer", params={"limit": 500, "sku_id": "SHOE-1", "status": "COMPLETED"})
    assert r.status_code == 200
    body = r.json()
    assert body["limit"] == 200 and body["offset"] == 0 and body["total"] >= 1  # the limit is capped
    img = next(i for i in body["images"] if i["id"] == first["image_id"])
    assert {"id", "sku_id", "image_url", "enhanced_image_url", "original_size_kb", "enhanced_size_kb",
            "status"} <= set(img)
    assert server.call("GET", "/images", "viewer", params={"sku_id": "NOPE"}).json()["total"] == 0
    is_problem(server.call("GET", "/images", "viewer", params={"status": "SHINY"}), 400)
    is_problem(server.call("GET", "/images", "viewer", params={"limit": 0}), 422)


def _walk(server, path, key, params, cursor=None):
    r = server.call("GET", path, "viewer", params=params | ({"cursor": cursor} if cursor else {}))
    assert r.status_code == 200, r.text
    return [row["id"] for row in r.json()[key]], r.json()["next_cursor"]


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_a_cursor_walks_a_listing_once_while_images_are_added(server, sort):
    sku = f"PAGES-{sort}"
    for i in range(5):
        assert upload(server, photo_bytes(seed=40 + i, size=(160, 120)), f"{i}.jpg", mode="OPTIMIZE",
                      sku_id=sku).status_code == 200
    params = {"sku_id": sku, "sort": sort, "limit": 2}
    everything, _ = _walk(server, "/images", "images", params | {"limit": 200})
    assert len(everything) == 5
    seen, cursor = _walk(server, "/images", "images", params)
    # a photo arrives between pages: an offset would show a row twice (newest) or not at all
    assert upload(server, photo_bytes(seed=49, size=(160, 120)), "late.jpg", mode="OPTIMIZE",
                  sku_id=sku).status_code == 200
    while cursor:
        page, cursor = _walk(server, "/images", "images", params, cursor)
        seen += page
    assert seen == everything if sort == "newest" else seen == everything + seen[5:]
    assert len(seen) == len(set(seen)) and set(everything) <= set(seen)
    is_problem(server.call("GET", "/images", "viewer", params={"cursor": "bm9wZQ"}), 400)
    is_problem(server.call("GET", "/images", "viewer", params={"cursor": "not base64!"}), 400)
    cursor = server.call("GET", "/images", "viewer", params=params).json()["next_cursor"]
    assert "either cursor or offset" in is_problem(
        server.call("GET", "/images", "viewer", params=params | {"cursor": cursor, "offset": 2}), 400)["detail"]
    is_problem(server.call("GET", "/images", "viewer", params={"sort": "sku", "cursor": cursor}), 400)
    assert server.call("GET", "/images", "viewer", params={"sort": "sku"}).json()["next_cursor"] is None


def test_a_cursor_walks_the_products(server):
    for i in range(3):
        assert upload(server, photo_bytes(seed=60 + i, size=(160, 120)), f"{i}.jpg", mode="OPTIMIZE",
                      sku_id=f"CURSOR-{i}").status_code == 200
    params = {"search": "CURSOR-", "limit": 2}
    everything, _ = _walk(server, "/products", "products", params | {"limit": 200})
    seen, cursor = _walk(server, "/products", "products", params)
    while cursor:
        page, cursor = _walk(server, "/products", "products", params, cursor)
        seen += page
    assert len(everything) == 3 and seen == everything


def test_image_and_history_are_ordered_by_sequence(server, first):
    iid = first["image_id"]
    r = server.call("POST", f"/images/{iid}/reenhance", "operator", json={"mode": "LIGHT_CORRECTION",
                                                                                "variants": 2})
    assert r.status_code == 200, r.text
    assert r.json()["enhancement_sequence"] == 2 and r.json()["review_status"] == "pending_review"
    assert len(r.json()["variants"]) == 1  # two results to choose between: they wait for a person
    for path in (f"/images/{iid}", f"/images/{iid}/enhancement-history"):
        body = server.call("GET", path, "viewer").json()
        assert body["image_id"] == iid and body["filename"] == "Red Shoe.jpg" and body["original_https_url"]
        seqs = [e["enhancement_sequence"] for e in body["enhancements"]]
        assert seqs == sorted(seqs) and seqs[:3] == [1, 2, 3]
        e = body["enhancements"][0]
        assert {"id", "enhancement_mode", "quality_metadata", "size_metadata", "enhanced_https_url",
                "review_status"} <= set(e)
        assert {"original_blur", "enhanced_blur", "improvement_percent"} <= set(e["quality_metadata"])
        assert {"original_size_kb", "enhanced_size_kb", "reduction_percent"} <= set(e["size_metadata"])


def _fetch(server, path):
    r = server.call("GET", path, "viewer", allow_redirects=False)
    if server.backend == "mariadb+s3":  # a presigned URL: the server streams nothing
        assert r.status_code == 307, r.text
        r = server.http.get(r.headers["location"], timeout=30)
    assert r.status_code == 200, r.text
    return r


def test_downloads_are_the_files(server, first):
    iid = first["image_id"]
    original = _fetch(server, f"/images/{iid}/original")
    assert ssim(decode(original.content), decode(photo_bytes(seed=1))) > 0.99
    enhanced = _fetch(server, f"/images/{iid}/enhanced?history_id={first['database_id']}")
    assert len(enhanced.content) <= 60 * 1024 and decode(enhanced.content).shape == (480, 640, 3)
    if server.backend == "sqlite+local":
        assert original.headers["content-type"] == "image/jpeg"
    is_problem(server.call("GET", f"/images/{iid}/enhanced", "viewer", params={"history_id": "nope"}), 404)
    is_problem(server.call("GET", "/images/nope/original", "viewer"), 404)


def test_review_decides_and_the_product_follows(server, first):
    iid = first["image_id"]
    pending = [e for e in server.call("GET", f"/images/{iid}", "viewer").json()["enhancements"]
               if e["review_status"] == "pending_review"]
    r = server.call("POST", f"/reviews/{pending[0]['id']}", "operator", json={"decision": "approve"})
    assert r.status_code == 200, r.text
    assert r.json()["decision"] == "approved" and r.json()["actor"] == "key:test-operator"
    product = server.call("GET", f"/products/{first['product_id']}", "viewer").json()
    assert product["sku_id"] == "SHOE-1" and product["status"] == "approved"
    assert server.call("GET", "/products/SHOE-1", "viewer").json()["id"] == first["product_id"]
    is_problem(server.call("POST", f"/reviews/{pending[0]['id']}", "operator", json={"decision": "maybe"}), 422)
    is_problem(server.call("POST", "/reviews/nope", "operator", json={"decision": "approve"}), 404)


def test_errors_are_problems(server):
    bad = is_problem(upload(server, b"<html>not a photo</html>", "x.jpg"), 415)
    assert "not an image" in bad["detail"] or "text" in bad["detail"]
    is_problem(upload(server, photo_bytes(seed=2), mode="SPARKLE"), 400)
    is_problem(upload(server, photo_bytes(seed=2), target_size_kb=10), 400)
    is_problem(upload(server, photo_bytes(seed=2), output_format="TGA"), 400)
    v = is_problem(upload(server, photo_bytes(seed=2), target_size_kb="lots"), 422)
    assert v["errors"][0]["field"] == "target_size_kb"
    r = server.call("POST", "/enhance/upload", "operator", data={"mode": "AUTO"})  # no file
    assert is_problem(r, 422)["errors"][0]["field"] == "file"
    is_problem(server.call("POST", "/images/nope/reenhance", "operator", json={}), 404)
    is_problem(server.call("POST", "/images/nope/reenhance", "operator", json={"colour": "red"}), 422)
    is_problem(server.call("GET", "/products/nope", "viewer"), 404)


def test_upload_twice_with_one_idempotency_key_makes_one_image(server):
    data = photo_bytes("coffee", seed=7)
    h = {"Idempotency-Key": "retry-7"}
    a = upload(server, data, "mug.jpg", headers=h, mode="OPTIMIZE", sku_id="MUG-7")
    b = upload(server, data, "mug.jpg", headers=h, mode="OPTIMIZE", sku_id="MUG-7")
    assert a.status_code == b.status_code == 200, (a.text, b.text)
    assert b.headers.get("Idempotent-Replayed") == "true" and a.json() == b.json()
    history = server.call("GET", f"/images/{a.json()['image_id']}", "viewer").json()["enhancements"]
    assert len(history) == 1
    other = upload(server, photo_bytes("coffee", seed=8), "mug.jpg", headers=h, mode="OPTIMIZE", sku_id="MUG-7")
    is_problem(other, 422)  # the same key for different work is refused
    assert server.call("GET", "/images", "viewer", params={"sku_id": "MUG-7"}).json()["total"] == 1


def test_roles(server, first):
    iid = first["image_id"]
    assert is_problem(server.call("GET", "/images", None), 401)["type"].endswith("unauthorized")
    assert server.call("GET", "/images", None).headers["www-authenticate"] == "Bearer"
    is_problem(server.call("GET", "/images", None, key="pl_not-a-key"), 401)
    is_problem(server.call("GET", "/images", None, headers={"Authorization": "Basic dXNlcjpwdw=="}), 401)
    # viewer: reads and downloads only
    assert server.call("GET", f"/images/{iid}", "viewer").status_code == 200
    is_problem(upload(server, photo_bytes(seed=3), role="viewer"), 403)
    is_problem(server.call("POST", f"/reviews/{first['database_id']}", "viewer", json={"decision": "approve"}),
               403)
    is_problem(server.call("POST", "/batches/x/pause", "viewer"), 403)
    # operator: no deletes, no keys
    is_problem(server.call("DELETE", f"/images/{iid}", "operator"), 403)
    is_problem(server.call("GET", "/keys", "operator"), 403)
    is_problem(server.call("POST", "/keys", "operator", json={"name": "x", "role": "admin"}), 403)
    # admin: keys; a revoked key is refused at once (revoked with the CLI here)
    made = server.call("POST", "/keys", "admin", json={"name": "short-lived", "role": "viewer"})
    assert made.status_code == 201 and set(made.json()) == {"id", "name", "role", "key"}
    assert server.call("GET", "/images", None, key=made.json()["key"]).status_code == 200
    listed = server.call("GET", "/keys", "admin").json()["keys"]
    assert all("key" not in k for k in listed) and made.json()["id"] in {k["id"] for k in listed}
    assert server.cli("api-key", "revoke", made.json()["id"])["revoked_at"]
    is_problem(server.call("GET", "/images", None, key=made.json()["key"]), 401)
    is_problem(server.call("POST", "/keys", "admin", json={"name": "x", "role": "boss"}), 400)


def test_admin_deletes_an_image_and_a_product(server):
    a = upload(server, photo_bytes("chelsea", seed=11), "cat.jpg", mode="OPTIMIZE", sku_id="CAT-1").json()
    r = server.call("DELETE", f"/images/{a['image_id']}", "admin")
    assert r.status_code == 200 and r.json()["kind"] == "image" and r.json()["objects"] >= 3
    is_problem(server.call("GET", f"/images/{a['image_id']}", "viewer"), 404)
    r = server.call("DELETE", "/products/CAT-1", "admin")
    assert r.status_code == 200 and r.json()["products"] == 1
    is_problem(server.call("DELETE", "/products/CAT-1", "admin"), 404)


def test_health_and_docs(server):
    r = server.call("GET", "/health", None)
    assert r.status_code == 200 and r.json()["ok"] is True
    names = {c["name"] for c in r.json()["checks"]}
    assert {"configuration", "database", "storage"} <= names
    assert "testing" not in r.text and "password" not in r.text.lower()
    spec = server.call("GET", "/openapi.json", None).json()
    assert "/v1/enhance/upload" in spec["paths"] and "/v1/batches/{batch_id}/status" in spec["paths"]
    assert "swagger" in server.call("GET", "/docs", None).text.lower()
