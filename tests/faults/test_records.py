"""Records that cannot dangle: lost COMMIT replies and racing writers, counting rows and objects directly.

Issue 19 items 1 and 2: two re-enhances of one image at once used to take the
same sequence and object keys, and the loser's cleanup deleted the winner's
files; a COMMIT whose reply was lost left committed rows whose files had been
removed. Keys are now unique per attempt, sequences are taken under the image
row's lock (or retried on SQLite), and a commit with an unknown outcome is
checked before anything is removed.
"""
from __future__ import annotations

import importlib

from sqlalchemy import func, select, text

from db import make_engine, repo
from db.models import EnhancementHistory, ImageStatus, Product, ProductImage, ProductStatus
from enhancer.service import Backends
from support import at_once, photo_bytes, referenced_keys, reup, stored_keys, up


def _consistent(b: Backends, storage=None) -> None:
    assert stored_keys(storage or b.storage) == referenced_keys(b.engine)


def test_a_lost_commit_reply_keeps_rows_and_files(proxied_mysql_url, mysql_url, db_proxy, s3_storage):
    direct = make_engine(mysql_url)
    b = Backends(make_engine(proxied_mysql_url, connect_timeout_s=2, read_timeout_s=2), s3_storage)
    # the server commits the results, the reply never reaches us
    db_proxy.after(b"INSERT INTO enhancement_history", lambda link: db_proxy.after(b"COMMIT", "blackhole"))
    res = up(b, photo_bytes(size=(320, 240)), "lost.jpg", sku_id="LOST-1", mode="OPTIMIZE")
    assert res.success and db_proxy.dropped > 0
    with direct.connect() as c:
        assert c.scalar(text("SELECT COUNT(*) FROM enhancement_history")) == 1
        assert c.scalar(text("SELECT status FROM product_images")) == "COMPLETED"
    _consistent(Backends(direct, s3_storage))
    again = up(b, photo_bytes(size=(320, 240)), "lost.jpg", sku_id="LOST-1", mode="OPTIMIZE")
    assert again.reused and again.database_id == res.database_id  # a re-run finds it, for ever after
    b.engine.dispose()
    direct.dispose()


def test_two_reenhances_of_one_image_at_once_keep_both(service):
    first = up(service, photo_bytes(size=(480, 360)), "race.jpg", mode="OPTIMIZE")
    results = at_once(lambda: reup(service, first.image_id, mode="AUTO"),
                      lambda: reup(service, first.image_id, mode="LIGHT_CORRECTION"))
    assert all(getattr(r, "success", False) for r in results), results
    assert sorted(r.enhancement_sequence for r in results) == [2, 3]
    assert len({r.enhanced_key for r in results}) == 2
    for r in results:  # each writer's files are there: nobody removed the other's
        assert service.storage.get(r.enhanced_key)
    with service.session() as s:
        assert s.scalar(select(func.count()).select_from(EnhancementHistory)) == 3
    _consistent(service)


def test_two_photos_for_a_new_sku_at_once_make_one_product_with_two_images(service):
    results = at_once(lambda: up(service, photo_bytes(seed=1, size=(320, 240)), "a.jpg", sku_id="NEW-1"),
                      lambda: up(service, photo_bytes(seed=2, size=(320, 240)), "b.jpg", sku_id="NEW-1"))
    assert all(getattr(r, "success", False) for r in results), results
    assert len({r.product_id for r in results}) == 1 and sorted(r.position for r in results) == [1, 2]
    with service.session() as s:
        assert s.scalar(select(func.count()).select_from(Product)) == 1
        assert s.scalar(select(func.count()).select_from(ProductImage)) == 2
    _consistent(service)


def test_photos_of_one_product_finishing_at_once_leave_its_status_as_derived_from_all_of_them(service):
    # each writer derives the product's status in its own transaction; a snapshot that missed the other
    # image (still processing there) would leave the product "processing" for ever; and each claim
    # of the SKU must get a position of its own, however many race for it
    n = 6
    results = at_once(*[lambda i=i: up(service, photo_bytes(seed=10 + i, size=(320, 240)), f"{i}.jpg",
                                       sku_id="MANY-1", mode="OPTIMIZE") for i in range(n)])
    assert all(getattr(r, "success", False) for r in results), results
    with service.session() as s:
        product = s.scalars(select(Product)).one()
        images = repo.product_images(s, product.id)
        assert len(images) == n and all(i.status is ImageStatus.COMPLETED for i in images)
        assert sorted(i.position for i in images) == list(range(1, n + 1))
        assert product.status is repo.product_status(images, 0) is ProductStatus.APPROVED
    _consistent(service)


def test_photos_of_new_skus_claimed_at_once_never_conflict(service, monkeypatch):
    # a claim locks its product's row, but only one that exists: a locking read of a SKU that is not
    # there yet would take a gap lock, and two new SKUs landing in one gap deadlock on their inserts
    from enhancer.errors import ConflictError

    upload = importlib.import_module("enhancer.service.upload")  # the module (the package exports a function)

    conflicts, write_rows = [], upload.write_rows

    def counted(*args, **kw):
        try:
            return write_rows(*args, **kw)
        except ConflictError as exc:
            conflicts.append(str(exc))
            raise

    monkeypatch.setattr(upload, "write_rows", counted)
    n = 8
    results = at_once(*[lambda i=i: upload.claim(service, photo_bytes(seed=70 + i, size=(64, 48)), f"{i}.jpg",
                                                 f"FRESH-{i:03d}", f"{i:064x}", ("JPEG", 64, 48)) for i in range(n)])
    assert all(isinstance(r, tuple) and r[1] for r in results), results
    assert conflicts == []
    with service.session() as s:
        assert s.scalar(select(func.count()).select_from(Product)) == n


def test_the_same_bytes_under_one_sku_at_once_are_one_image(service):
    data = photo_bytes(seed=3, size=(320, 240))
    results = at_once(lambda: up(service, data, "a.jpg", sku_id="SAME-1", mode="OPTIMIZE"),
                      lambda: up(service, data, "a.jpg", sku_id="SAME-1", mode="AUTO"))
    assert all(getattr(r, "success", False) for r in results), results
    assert len({r.image_id for r in results}) == 1
    with service.session() as s:
        assert s.scalar(select(func.count()).select_from(ProductImage)) == 1
        assert s.scalar(select(func.count()).select_from(EnhancementHistory)) == 2
    _consistent(service)
