"""The operator flow in a real browser: upload, enhance, download, gallery, detail, approve, export."""
from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from support import photo_bytes

pytestmark = pytest.mark.browser
ROOT_SHOT = "docs/screenshot.png"
ROOT_DIR = Path(__file__).resolve().parents[2]


def test_upload_enhance_download_gallery_detail_approve_export(app_url, page, tmp_path, shots, idle):
    a, b = tmp_path / "red shoe.jpg", tmp_path / "blue_bag.png"
    a.write_bytes(photo_bytes(size=(900, 675), seed=21))
    b.write_bytes(photo_bytes("chelsea", size=(800, 600), fmt="PNG"))

    page.goto(app_url)
    page.get_by_role("heading", name="Upload & Enhance").wait_for()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files([str(a), str(b)])
    page.locator("[data-testid='stFileChip']").nth(1).wait_for()
    idle(page)
    target = page.get_by_label("Target size (KB)")
    target.click()
    target.press("Control+a")
    target.press_sequentially("100")
    target.press("Tab")
    idle(page)
    expect(target).to_have_value("100")
    variants = page.get_by_role("spinbutton", name="Variants")  # two results each: a person chooses
    variants.click()
    variants.press("Control+a")
    variants.press_sequentially("2")
    variants.press("Tab")
    idle(page)
    expect(variants).to_have_value("2")
    enhance = page.get_by_role("button", name="Enhance", exact=True)
    expect(enhance).to_be_enabled()  # the SKU table and the button follow the upload
    idle(page)
    enhance.click()
    page.get_by_role("button", name="Download enhanced red shoe.jpg").wait_for(timeout=120_000)
    page.get_by_role("button", name="Download enhanced blue_bag.png").wait_for()
    idle(page)
    assert page.get_by_text("Results: 2 enhanced, 0 failed").is_visible()

    with page.expect_download() as dl:
        page.get_by_role("button", name="Download enhanced red shoe.jpg").click()
    d = dl.value
    assert d.suggested_filename == "red_shoe_enhanced.jpg"
    path = tmp_path / d.suggested_filename
    d.save_as(path)
    img = Image.open(io.BytesIO(path.read_bytes()))
    img.load()
    assert img.format == "JPEG" and img.size[0] >= 500
    slider = page.get_by_role("slider").first  # the compare wipe reruns only its own card
    slider.focus()
    for _ in range(3):
        slider.press("PageDown")
    idle(page)
    expect(slider).not_to_have_attribute("aria-valuenow", "50")
    assert page.locator("[data-testid='stException']").count() == 0
    slider.press("End")
    for _ in range(5):
        slider.press("PageDown")
    idle(page)
    page.wait_for_timeout(800)
    shot = shots(page, "01_upload_results")
    shots(page, "readme", max_height=1500, path=tmp_path / "upload.png")

    # Gallery: both thumbnails
    page.get_by_role("link", name="Gallery").click()
    page.get_by_role("heading", name="Gallery").wait_for()
    page.get_by_text("2 image(s) match").wait_for()
    idle(page)
    thumbs = page.locator("[data-testid='stMain'] [data-testid='stImage'] img")
    expect(thumbs).to_have_count(2)  # waits: the second thumbnail may render a moment after the first
    thumbs.nth(1).wait_for()
    shots(page, "02_gallery")

    # Export CSV of the filtered table
    with page.expect_download() as dl:
        page.get_by_role("button", name="Export CSV").click()
    csv = dl.value
    assert csv.suggested_filename == "pixel_lab_images.csv"
    csv_text = open(csv.path(), encoding="utf-8").read()
    assert csv_text.splitlines()[0].startswith("id,sku_id,original_filename") and "red shoe.jpg" in csv_text

    # Select both → ZIP of their enhanced files
    for box in page.locator("[data-testid='stMain'] [data-testid='stCheckbox']").all():
        box.click()
        idle(page)
    zip_button = page.get_by_role("button", name="Download ZIP (2 selected)")
    expect(zip_button).to_be_enabled()
    with page.expect_download() as dl:
        zip_button.click()
    with zipfile.ZipFile(dl.value.path()) as z:
        assert sorted(z.namelist()) == ["blue_bag_enhanced.jpg", "red_shoe_enhanced.jpg"]
        Image.open(io.BytesIO(z.read("red_shoe_enhanced.jpg"))).load()

    # Detail page from the gallery; approve the variant
    page.get_by_role("link", name="Open").first.click()
    page.get_by_role("heading", name="Image detail").wait_for()
    page.get_by_text("Enhancements (2)").wait_for()
    assert "id=" in page.url
    idle(page)
    page.get_by_role("button", name="Approve").first.click()
    page.get_by_text("#1 approved").wait_for()
    idle(page)
    assert page.get_by_text("approved by dashboard:local").first.is_visible()
    shots(page, "03_detail")

    # Review: the other image waits; approve it in place (form buttons)
    page.get_by_role("link", name="Review").click()
    page.get_by_role("heading", name="Review").wait_for()
    page.get_by_text("1 image(s) waiting for review").wait_for()
    idle(page)
    shots(page, "04_review")
    page.get_by_role("button", name="Approve #1").first.click()
    page.get_by_text("#1 approved.").wait_for()
    page.get_by_text("0 image(s) waiting for review").wait_for()

    for name, heading in [("Insights", "Insights"), ("System status", "System status")]:
        page.get_by_role("link", name=name).click()
        page.get_by_role("heading", name=heading).wait_for()
        idle(page)
        page.wait_for_timeout(800)
        shots(page, f"04_{name.lower().replace(' ', '_')}")
    assert page.get_by_text("All checks passed.").is_visible()

    # README screenshot (committed; refreshed when missing or with PIXEL_LAB_UPDATE_SCREENSHOT=1)
    out = Image.open(tmp_path / "upload.png").convert("RGB")
    for width, colors in [(1200, 256), (1000, 256), (1000, 128), (800, 128)]:
        small = out.copy()
        small.thumbnail((width, 10_000), Image.Resampling.LANCZOS)
        small.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            tmp_path / "readme.png", optimize=True)
        if (tmp_path / "readme.png").stat().st_size < 300 * 1024:
            dest = ROOT_DIR / ROOT_SHOT
            if not dest.exists() or os.environ.get("PIXEL_LAB_UPDATE_SCREENSHOT") == "1":
                dest.parent.mkdir(exist_ok=True)
                shutil.copy(tmp_path / "readme.png", dest)
            shutil.copy(tmp_path / "readme.png", ROOT_DIR / "test-artifacts" / "screenshots" / "readme.png")
            break
    assert shot.exists()
