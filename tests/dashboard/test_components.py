"""Helpers behind the pages: previews stay small, the wipe composes both images, exports open."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
from PIL import Image

from dashboard.components import downscale, esc, to_csv, to_excel, to_json, wipe, zip_files
from support import decode, photo_bytes


def test_downscale_never_sends_full_size():
    big = photo_bytes(size=(2400, 1800))
    small = downscale(big, 720)
    assert Image.open(io.BytesIO(small)).size == (720, 540) and len(small) < len(big)


def test_wipe_shows_before_left_and_after_right():
    before = photo_bytes(size=(400, 300))
    after_arr = np.full((300, 400, 3), 255, np.uint8)
    buf = io.BytesIO()
    Image.fromarray(after_arr).save(buf, "PNG")
    out = decode(wipe(before, buf.getvalue(), 50))
    assert out.shape == (300, 400, 3)
    assert out[:, 300:].mean() > 250  # right half: the (white) enhanced image
    assert abs(out[:, :150].mean() - decode(before)[:, :150].mean()) < 8  # left: the original


def test_esc_keeps_markdown_and_html_literal():
    assert esc("**bold**_[x](javascript:alert(1))<b>") == "\\*\\*bold\\*\\*\\_\\[x\\](javascript:alert(1))\\<b\\>"


def test_exports_and_zip_round_trip():
    rows = [{"sku_id": "A1", "original_filename": "=cmd|' /C calc'!A0.jpg", "quality_after": 71.5},
            {"sku_id": "B2", "original_filename": "b.png", "quality_after": None}]
    assert to_csv(rows).decode().splitlines()[0] == "sku_id,original_filename,quality_after"
    assert json.loads(to_json(rows))[0]["sku_id"] == "A1"
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(to_excel(rows))).active
    assert ws["A2"].value == "A1" and not str(ws["B2"].value).startswith("=")  # no formula injection
    z = zipfile.ZipFile(io.BytesIO(zip_files([("a.jpg", lambda: b"1"), ("a.jpg", lambda: b"2")])))
    assert z.namelist() == ["a.jpg", "a_1.jpg"] and z.read("a_1.jpg") == b"2"
