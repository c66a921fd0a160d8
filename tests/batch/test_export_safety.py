"""Batch exports are safe by construction: no formulas in CSV/XLSX, no paths out of the ZIP."""
from __future__ import annotations

import csv
import io
import zipfile
from pathlib import PurePosixPath, PureWindowsPath

from openpyxl import load_workbook

from enhancer.batch import BatchRunner, create_batches
from enhancer.batch.export import enhanced_zip, export_batch
from enhancer.batch.fetch import FetchPolicy, Fetcher
from enhancer.options import EnhanceOptions

from batch.photoserver import write_manifest

SKUS = ['=HYPERLINK("http://evil.example","x")', "+1+2", "-3", "@SUM(A1)", "＝1", "../../evil", "..\\evil2",
        "../../evil"[3:], "a/b/../c"]


def _run(service, photo_server, tmp_path):
    rows = [{"sku_id": s, "image_url": photo_server.url(f"/img/{700 + i}.jpg")} for i, s in enumerate(SKUS)]
    (bid,) = create_batches(service, write_manifest(tmp_path / "evil.csv", rows),
                            options=EnhanceOptions.parse("OPTIMIZE", 60), name="Evil")
    fetch = Fetcher(FetchPolicy(allow_private=True, retries=1, backoff_s=0.01))
    sm = BatchRunner(service, workers=2, fetcher=fetch, poll_s=0.05).run(bid)
    assert sm.completed == len(SKUS), sm
    return bid


def test_exports_and_zip_of_a_hostile_manifest(sqlite_service, photo_server, tmp_path):
    bid = _run(sqlite_service, photo_server, tmp_path)

    back = list(csv.DictReader(io.StringIO(export_batch(sqlite_service, bid, "csv").decode(), newline="")))
    assert [r["sku_id"] for r in back] == [("'" + s if s[0] in "=+-@＝" else s) for s in SKUS]
    ws = load_workbook(io.BytesIO(export_batch(sqlite_service, bid, "xlsx"))).active
    header = [c.value for c in ws[1]]
    col = header.index("sku_id") + 1
    cells = [ws.cell(r, col) for r in range(2, ws.max_row + 1)]
    assert all(c.data_type == "s" for c in cells)
    assert [c.value for c in cells] == [r["sku_id"] for r in back]
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)  # no formula anywhere

    z = zipfile.ZipFile(io.BytesIO(enhanced_zip(sqlite_service, bid)))
    names = z.namelist()
    assert len(names) == len(SKUS) == len(set(names))  # one file per item, none replaced by another
    for n in names:
        assert "/" not in n and "\\" not in n and ".." not in n and not n.startswith("."), n
        assert PurePosixPath(n).name == n == PureWindowsPath(n).name
    assert {"evil_enhanced.jpg", "evil2_enhanced.jpg", "evil_enhanced_2.jpg"} <= set(names)
    out = tmp_path / "unpacked" / "inner"
    z.extractall(out)
    assert sorted(p.name for p in out.parent.rglob("*") if p.is_file()) == sorted(names)
    assert all(p.parent == out for p in out.parent.rglob("*") if p.is_file())
