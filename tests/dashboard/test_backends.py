"""The key pages on both ways of running: SQLite + folder and MariaDB + S3 (moto over HTTP)."""
from __future__ import annotations

import pytest

from support import photo_bytes


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("page", ["gallery", "review", "insights", "status"])
def test_pages_render_on_each_backend(open_page, backend_seeded, page):
    name, _, _ = backend_seeded
    at = open_page(page)
    _ok(at)
    assert not at.error
    if page == "gallery":
        assert "**3** image(s) match" in "\n".join(m.value for m in at.markdown)
        assert len(at.image) == 2  # thumbnails read through service.read (S3 objects are private)
    if page == "status":
        assert "All checks passed" in at.success[0].value
        detail = " ".join(at.dataframe[0].value["detail"])
        assert ("mysql" in detail) == (name == "mariadb+s3")


def test_upload_and_detail_on_each_backend(open_page, backend_seeded):
    name, svc, seeded = backend_seeded
    at = open_page("upload")
    at.file_uploader[0].set_value([("Blue Bag.jpg", photo_bytes("coffee", seed=9), "image/jpeg"),
                                   ("bad.png", b"\x89PNG broken", "image/png")]).run()
    next(b for b in at.button if b.label == "Enhance").click().run()
    _ok(at)
    assert len(at.error) == 1 and "bad.png" in at.error[0].value
    assert "Download enhanced Blue Bag.jpg" in [b.label for b in at.download_button]

    at = open_page("detail", query={"id": seeded["variants"].image_id})
    _ok(at)
    assert len(at.image) == 3  # original + two variants, downscaled previews
    [b for b in at.button if b.label == "Reject"][0].click().run()
    _ok(at)
    with svc.session() as s:
        from db import repo
        assert repo.history(s, seeded["variants"].image_id)[0].review_status.value == "rejected"
