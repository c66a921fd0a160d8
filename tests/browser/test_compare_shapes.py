"""The compare view on a result of another shape: the original is letterboxed, never stretched."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from support import photo_bytes

pytestmark = pytest.mark.browser


def test_compare_wipe_letterboxes_a_4x3_original_into_a_square_result(app_url, page, tmp_path, shots, idle):
    photo = tmp_path / "wide lamp.jpg"
    photo.write_bytes(photo_bytes("coffee", size=(800, 600), seed=77))
    page.goto(app_url)
    page.get_by_role("heading", name="Upload & Enhance").wait_for()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files([str(photo)])
    page.locator("[data-testid='stFileChip']").first.wait_for()
    idle(page)
    page.get_by_label("Mode").first.click()
    page.get_by_role("option", name="Standardize").click()
    idle(page)
    page.get_by_role("button", name="Enhance", exact=True).click()
    page.get_by_role("button", name="Download enhanced wide lamp.jpg").wait_for(timeout=120_000)
    idle(page)
    slider = page.get_by_role("slider").first
    slider.focus()
    slider.press("End")  # all original
    idle(page)
    page.wait_for_timeout(500)
    shots(page, "06_compare_square")
    box = page.locator("[data-testid='stImage']").filter(has_text="Compare")
    src = box.locator("img").first.get_attribute("src")
    wiped = np.asarray(Image.open(io.BytesIO(page.request.get(app_url.rstrip("/") + src if src.startswith("/")
                                                             else src).body())).convert("RGB"))
    h, w = wiped.shape[:2]
    assert abs(w - h) <= 2  # the result's square frame
    # the 4:3 original fits the square's width: plain bands above and below, the photo in the middle
    band = wiped[: h // 10].reshape(-1, 3)
    middle = wiped[h // 2 - h // 10: h // 2 + h // 10].reshape(-1, 3)
    assert band.std(axis=0).max() < 6 and middle.std(axis=0).max() > 20
