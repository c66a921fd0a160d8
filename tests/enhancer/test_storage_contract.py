"""One contract, every backend: the local folder and S3 over moto's HTTP server."""
from __future__ import annotations

import urllib.request

import pytest

from enhancer.errors import NotFoundError
from enhancer.storage import LocalStorage, S3Storage
from enhancer.storage.keys import enhanced_key, original_key, safe_name, thumbnail_key


@pytest.fixture(params=["local", "s3"])
def storage(request):
    return request.getfixturevalue("local_storage" if request.param == "local" else "s3_storage")


def test_put_get_exists_delete_roundtrip(storage):
    key = "uploads/original/abcd1234_shoe.jpg"
    assert not storage.exists(key)
    uri = storage.put(key, b"\xff\xd8jpeg-bytes", content_type="image/jpeg")
    assert uri == storage.uri(key) and storage.exists(key)
    assert storage.get(key) == b"\xff\xd8jpeg-bytes"
    storage.put(key, b"second", content_type="image/jpeg")  # overwrite
    assert storage.get(key) == b"second"
    storage.delete(key)
    assert not storage.exists(key)
    storage.delete(key)  # idempotent


def test_missing_object_raises_not_found(storage):
    with pytest.raises(NotFoundError):
        storage.get("uploads/original/nope.jpg")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/key", "a//b", "a/./b", "a\\b", ""])
def test_keys_that_escape_are_refused(storage, key):
    with pytest.raises(ValueError):
        storage.put(key, b"x", content_type="text/plain")


def test_url_serves_the_object(storage):
    key = "uploads/thumbs/abcd1234_1.jpg"
    storage.put(key, b"thumb", content_type="image/jpeg")
    url = storage.url(key, download_name="x.jpg")
    with urllib.request.urlopen(url, timeout=5) as resp:  # presigned HTTP for S3, file:// locally
        assert resp.read() == b"thumb"


def test_list_yields_keys_sizes_and_times_in_key_order(storage):
    from datetime import datetime, timedelta, timezone

    keys = ["uploads/thumbs/b_1.jpg", "uploads/original/a-b.jpg", "uploads/original/a/x.jpg",
            "uploads/original/a0.jpg", "uploads/enhanced/z.webp", "other/keep.txt"]
    for i, k in enumerate(keys):
        storage.put(k, b"x" * (i + 1), content_type="application/octet-stream")
    listed = list(storage.list())
    assert [o.key for o in listed] == sorted(keys)  # byte order, as S3 lists
    sizes = {o.key: o.size for o in listed}
    assert sizes == {k: i + 1 for i, k in enumerate(keys)}
    now = datetime.now(timezone.utc)
    assert all(o.last_modified.tzinfo is not None and abs(now - o.last_modified) < timedelta(minutes=5)
               for o in listed)
    assert [o.key for o in storage.list("uploads/original/")] == sorted(k for k in keys if "original/" in k)
    assert [o.key for o in storage.list("uploads/original/a")] == \
        ["uploads/original/a-b.jpg", "uploads/original/a/x.jpg", "uploads/original/a0.jpg"]
    assert [k for k, _size, _when in storage.list("uploads/thumbs")] == ["uploads/thumbs/b_1.jpg"]  # plain tuples
    assert list(storage.list("nothing/here/")) == []
    storage.delete("other/keep.txt")
    assert "other/keep.txt" not in [o.key for o in storage.list()]


def test_check_reports_the_backend(storage):
    assert storage.check()


def test_local_writes_are_atomic(tmp_path, monkeypatch):
    st = LocalStorage(tmp_path)
    st.put("a/b.jpg", b"old", content_type="image/jpeg")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("enhancer.storage.local.os.replace", broken_replace)
    with pytest.raises(Exception, match="No space left"):
        st.put("a/b.jpg", b"new", content_type="image/jpeg")
    assert st.get("a/b.jpg") == b"old"
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["b.jpg"]  # no temp file left


def test_s3_objects_are_private_and_encrypted(s3_storage):
    key = "uploads/original/abcd1234_x.png"
    s3_storage.put(key, b"png", content_type="image/png")
    head = s3_storage.client.head_object(Bucket=s3_storage.bucket, Key=key)
    assert head["ServerSideEncryption"] == "AES256" and head["ContentType"] == "image/png"
    # The plain (unsigned) URL is not readable: objects are private.
    plain = s3_storage.public_url(key)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(plain, timeout=5)
    assert err.value.code == 403
    assert "X-Amz-Signature" in s3_storage.url(key) and "X-Amz-Algorithm=AWS4-HMAC-SHA256" in s3_storage.url(key)


def test_cloudfront_domain_makes_the_https_url():
    st = S3Storage("bucket", region="eu-west-1", cloudfront_domain="cdn.example.com", client=object())
    assert st.public_url("uploads/x y.jpg") == "https://cdn.example.com/uploads/x%20y.jpg"
    st = S3Storage("bucket", region="eu-west-1", client=object())
    assert st.public_url("uploads/a.jpg") == "https://bucket.s3.eu-west-1.amazonaws.com/uploads/a.jpg"


@pytest.mark.parametrize("name,expected", [
    ("../../etc/passwd", "passwd"), ("C:\\Users\\me\\photo.JPG", "photo.jpg"),
    ("shoe (1).jpeg", "shoe_1.jpeg"), ("Ünïcödé café.png", "Unicode_cafe.png"),
    ("", "image"), ("....", "image"), ("a" * 300 + ".jpg", "a" * 100 + ".jpg"), ("名前.webp", "image.webp"),
])
def test_safe_name(name, expected):
    assert safe_name(name) == expected


def test_key_layout():
    iid = "0123456789abcdef"
    assert original_key(iid, "My Shoe.JPG") == "uploads/original/01234567_My_Shoe.jpg"
    assert enhanced_key(iid, 2, "My Shoe.JPG", "webp") == "uploads/enhanced/01234567_2_My_Shoe.webp"
    assert thumbnail_key(iid, 2) == "uploads/thumbs/01234567_2.jpg"
