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


def test_wipe_letterboxes_an_original_of_another_shape():
    """A 4:3 original under a square result keeps its shape: bands above and below, no stretch."""
    from dashboard.components import LETTERBOX

    before = photo_bytes(size=(400, 300))
    buf = io.BytesIO()
    Image.fromarray(np.full((600, 600, 3), 255, np.uint8)).save(buf, "PNG")
    out = decode(wipe(before, buf.getvalue(), 100)).astype(int)
    assert out.shape == (600, 600, 3)
    band = out[5:60, 20:580]  # the original spans rows 75-525 once letterboxed
    assert np.abs(band - np.array(LETTERBOX)).max() <= 10  # JPEG ringing near the edge
    middle = out[100:500, 20:580]
    assert np.abs(middle - np.array(LETTERBOX)).mean() > 20  # the photo itself, not the frame


def test_size_change_says_why_a_result_grew():
    from dashboard.components import size_change

    text, colour, why = size_change(100, 4919, format_before="JPEG", format_after="PNG",
                                    dims_before=(800, 600), dims_after=(2000, 2000))
    assert text == "x49.2 larger" and colour == "off"
    assert "PNG is lossless" in why and "8.3x the pixels" in why
    assert size_change(100, 65) == ("-35.0%", "inverse", "")
    text, colour, why = size_change(73, 81.4, format_before="JPEG", format_after="JPEG",
                                    dims_before=(640, 480), dims_after=(640, 480))
    assert text == "+11.5%" and colour == "inverse" and why == ""  # unexplained growth stays red


def test_reduction_histogram_is_in_numeric_order():
    from dashboard.components import reduction_histogram

    hist = reduction_histogram([-45, -5, -5, 5, 35, 95, 100, 250])
    assert list(hist["reduction %"][:3]) == ["-50 to -40", "-40 to -30", "-30 to -20"]
    assert list(hist["reduction %"])[-1] == "90 to 100"
    counts = dict(zip(hist["reduction %"], hist["images"]))
    assert counts["-10 to 0"] == 2 and counts["90 to 100"] == 3 and counts["-50 to -40"] == 1
    assert hist["images"].sum() == 8


def test_processing_time_with_one_day_is_a_bar_per_mode():
    import pandas as pd

    from dashboard.components import processing_time_by_day

    one = pd.DataFrame({"created_at": ["2026-01-05 10:00", "2026-01-05 11:00", "2026-01-05 12:00"],
                        "mode": ["AUTO", "AUTO", "FULL"], "processing_time_ms": [100.0, 300.0, 900.0]})
    kind, data = processing_time_by_day(one)
    assert kind == "bar" and dict(zip(data["mode"], data["median ms"])) == {"AUTO": 200.0, "FULL": 900.0}
    two = pd.concat([one, one.assign(created_at="2026-01-06 09:00")])
    kind, data = processing_time_by_day(two)
    assert kind == "line" and len(data) == 2


def test_streamlit_does_not_watch_the_data_folder():
    import tomllib
    from pathlib import Path

    cfg = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["fileWatcherType"] == "poll"  # inotify watches the app's folder recursively
    assert "data" in cfg["server"]["folderWatchBlacklist"]
