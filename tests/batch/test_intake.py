"""ZIP, folder and manifest intake: zip-slip, zip-bomb guards, non-images, bad rows."""
from __future__ import annotations

import zipfile

import pytest
from openpyxl import Workbook

from db import batch_repo as br
from db.batch_models import ItemStatus
from enhancer.batch import BatchRunner, IntakeError, ZipLimits, create_batches, iter_items
from enhancer.options import EnhanceOptions

from batch.photoserver import image

OPTS = EnhanceOptions.parse(mode="OPTIMIZE", target_size_kb=60)


def make_zip(path, entries: dict[str, bytes], *, compression=zipfile.ZIP_STORED) -> str:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, body in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = compression
            zf.writestr(info, body)  # ZipInfo keeps hostile names as written
    return str(path)


def test_zip_batch_refuses_slip_and_non_images(sqlite_service, tmp_path):
    archive = make_zip(tmp_path / "photos.zip", {
        "shoes/red/Red Shoe.jpg": image(1), "shoes/blue.jpg": image(2), "top.png": image(3),
        "../evil.jpg": image(4), "/etc/abs.jpg": image(5), "readme.txt": b"just text",
        "__MACOSX/._top.png": b"junk", "empty/": b"",
    })
    (bid,) = create_batches(sqlite_service, archive, options=OPTS)
    sm = BatchRunner(sqlite_service, workers=2, poll_s=0.05).run(bid)
    assert (sm.total, sm.completed, sm.failed) == (6, 3, 3)
    with sqlite_service.session() as s:
        its = {i.source: i for i in br.items(s, bid)}
    assert its["shoes/red/Red Shoe.jpg"].sku_id == "Red_Shoe" and its["shoes/red/Red Shoe.jpg"].product_image_id
    assert "'..'" in its["../evil.jpg"].error and not its["../evil.jpg"].retryable
    assert "absolute path" in its["/etc/abs.jpg"].error
    assert "not an image" in its["readme.txt"].error and its["readme.txt"].status is ItemStatus.FAILED
    assert not (tmp_path / "evil.jpg").exists()


def test_zip_bomb_guards(tmp_path):
    archive = make_zip(tmp_path / "bomb.zip", {"a.jpg": image(1), "bomb.jpg": b"\0" * 4_000_000,
                                               "big.jpg": b"\1" * 300_000},
                       compression=zipfile.ZIP_DEFLATED)
    items = {i.source: i for i in iter_items("zip", archive, zip_limits=ZipLimits(max_entry_bytes=1_000_000))}
    assert items["a.jpg"].error is None
    assert "compression ratio" in items["bomb.jpg"].error or "limit" in items["bomb.jpg"].error
    items = {i.source: i for i in iter_items("zip", archive, zip_limits=ZipLimits(max_entry_bytes=200_000,
                                                                                  max_ratio=1e9))}
    assert "above the" in items["bomb.jpg"].error and "above the" in items["big.jpg"].error
    items = list(iter_items("zip", archive, zip_limits=ZipLimits(max_total_bytes=400_000, max_ratio=1e9)))
    assert any("passed" in (i.error or "") for i in items)
    with pytest.raises(IntakeError, match="entries"):
        list(iter_items("zip", archive, zip_limits=ZipLimits(max_entries=2)))


def test_folder_batch_with_nested_folders(sqlite_service, tmp_path):
    root = tmp_path / "in"
    (root / "a" / "b").mkdir(parents=True)
    (root / "one.jpg").write_bytes(image(11))
    (root / "a" / "b" / "two.jpg").write_bytes(image(12))
    (root / "a" / "notes.txt").write_text("x")
    (bid,) = create_batches(sqlite_service, root, options=OPTS)
    sm = BatchRunner(sqlite_service, workers=2, poll_s=0.05).run(bid)
    assert (sm.total, sm.completed, sm.failed) == (3, 2, 1)


def test_manifest_needs_required_columns(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("sku,url\nA,http://x/a.jpg\n")
    with pytest.raises(IntakeError, match="missing column.*sku_id, image_url"):
        list(iter_items("csv", p))


def test_xlsx_manifest(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["SKU_ID", "Image URL", "Target Size KB"])
    ws.append(["A1", "https://example.com/a.jpg", 150])
    ws.append([None, None, None])
    ws.append(["A2", "https://example.com/b.jpg", "lots"])
    wb.save(tmp_path / "m.xlsx")
    items = list(iter_items("xlsx", tmp_path / "m.xlsx"))
    assert [(i.sku_id, i.target_size_kb, i.error is None) for i in items] == [("A1", 150, True), ("A2", None, False)]
    assert "target_size_kb 'lots'" in items[1].error


def test_empty_source_is_bad_input(sqlite_service, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(IntakeError, match="no items"):
        create_batches(sqlite_service, tmp_path / "empty")


def test_hostile_zip_names_are_listed_not_dropped_and_huge_fields_refused(tmp_path):
    import zipfile

    from enhancer.batch.errors import IntakeError
    from enhancer.batch.intake import iter_items

    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("..\\evil2.jpg", b"x")
        zf.writestr("../evil.jpg", b"x")
        zf.writestr(".hidden.jpg", b"x")
        zf.writestr("ok.jpg", b"x")
    items = list(iter_items("zip", z))
    refused = {i.source: i.error for i in items if i.error}
    assert set(refused) == {"..\\evil2.jpg", "../evil.jpg"} and all("'..'" in e for e in refused.values())
    assert [i.source for i in items if not i.error] == ["ok.jpg"]  # the hidden file is skipped, as before

    big = tmp_path / "big.csv"
    big.write_text("sku_id,image_url\nA," + "x" * 1_000_000 + "\n")
    with pytest.raises(IntakeError, match="not a readable CSV manifest"):
        list(iter_items("csv", big))
