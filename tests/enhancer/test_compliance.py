"""Compliance measures the product photo, not our padding (issue 14, item 1).

Photos are made here or in benchmarks/compliance.py (seeded); the values in the
asserts are the rules' own thresholds.
"""
from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from enhancer import PROFILES, check_compliance, enhance

from tests.enhancer.imaging_helpers import photo, to_bytes

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from compliance import product_photo  # noqa: E402


def _rules(report):
    return {r.name: r for r in report.rules}


def _studio(side: int, product: int, *, seed: int = 0, bg=(252, 252, 252)) -> bytes:
    img, _ = product_photo("coffee", bg, side=side, product=product, shape=2, seed=seed)
    return to_bytes(img, "JPEG", quality=90)


def test_busy_scene_standardized_fails_the_background_rule_with_its_real_colour():
    busy = to_bytes(photo(1600, 1200), "JPEG", quality=90)
    res = enhance(busy, "STANDARDIZE", profile="amazon")
    rules = _rules(res.compliance)
    assert not res.compliance.passed
    bg = rules["background"]
    assert not bg.passed and "256" not in bg.measured
    colour = re.search(r"RGB\((\d+),(\d+),(\d+)\)", bg.measured)
    if colour:  # measured on the photo's own border, not our white padding
        assert "own border" in bg.measured and max(map(int, colour.groups())) < 240
    else:  # the learned matte found the subject, and it runs off the frame: a scene, not a product shot
        assert "runs off the photo's edge" in bg.measured
    assert res.notes  # the result says what it did


@pytest.mark.parametrize("name", ["generic", "flipkart"])
def test_busy_scene_fails_lenient_profiles_too(name):
    busy = to_bytes(photo(1600, 1200, name="chelsea"), "JPEG", quality=90)
    assert not _rules(enhance(busy, "STANDARDIZE", profile=name).compliance)["background"].passed


def test_thumbnail_blown_up_to_the_canvas_fails_source_resolution():
    thumb = _studio(160, 96)
    res = enhance(thumb, "STANDARDIZE", profile="amazon")
    assert (res.width, res.height) == (2000, 2000)
    rule = _rules(res.compliance)["source resolution"]
    assert not rule.passed and not res.compliance.passed
    assert "160x120 source" in rule.measured and "magnified" in rule.measured
    assert ">= 500 px" in rule.expected


def test_photo_someone_else_blew_up_fails_from_its_edges():
    img, _ = product_photo("chelsea", (252, 252, 252), side=200, product=120, shape=1, seed=3)
    big = to_bytes(cv2.resize(img, (1600, 1200), interpolation=cv2.INTER_CUBIC), "JPEG", quality=90)
    for report in (check_compliance(big, "amazon"), enhance(big, "STANDARDIZE", profile="amazon").compliance):
        rule = _rules(report)["source resolution"]
        assert not rule.passed and "blown up" in rule.measured, rule


@pytest.mark.parametrize("scene", ["rocket", "moon"])  # moon: a grey surface whose border looks plain at first
def test_product_on_a_busy_scene_is_cut_out_onto_white_but_not_passed_as_a_studio_shot(scene):
    """The learned matte (issue 18) isolates a product on a busy scene and it lands on white; compliance
    still reads the photo's own background, a scene, and fails the rule, saying why (issue 14: no false pass
    for a product that was not photographed on a plain background)."""
    img, truth = product_photo("camera", None, side=1600, product=900, shape=1, seed=5, scene=scene)
    res = enhance(to_bytes(img, "JPEG", quality=90), "STANDARDIZE", profile="amazon")
    out = np.asarray(Image.open(io.BytesIO(res.data)).convert("RGB")).astype(int)
    corners = np.concatenate([out[:40, :40].reshape(-1, 3), out[-40:, -40:].reshape(-1, 3)])
    assert (corners >= 250).all()  # the scene is gone: white canvas around the product
    bg = _rules(res.compliance)["background"]
    assert not bg.passed and "a scene, not a plain backdrop" in bg.measured


def test_large_studio_shot_passes_with_real_values():
    res = enhance(_studio(2400, 1300, seed=1), "STANDARDIZE", profile="amazon")
    rules = _rules(res.compliance)
    assert res.compliance.passed, [r for r in res.compliance.rules if not r.passed]
    assert "replaced through the product's matte" in rules["background"].measured
    assert "2400x1800 source" in rules["source resolution"].measured


def test_background_colour_is_a_possible_value():
    """A float32 sum over a large ring drifted to 'RGB(256,256,256)'."""
    canvas = np.full((3000, 3000, 3), 255, np.uint8)
    canvas[300:2700, 300:2700] = cv2.resize(photo(640, 480), (2400, 2400))
    for name in PROFILES:
        measured = _rules(check_compliance(canvas, name))["background"].measured
        values = [int(v) for v in re.search(r"RGB\((\d+),(\d+),(\d+)\)", measured).groups()]
        assert max(values) <= 255, measured


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_rule_reports_measured_value_and_limit(name):
    res = enhance(_studio(1200, 700, seed=2), "STANDARDIZE", profile=name)
    names = [r.name for r in res.compliance.rules]
    assert {"minimum size", "maximum size", "source resolution", "background", "product fill"} <= set(names)
    for r in res.compliance.rules:
        assert r.measured and r.expected, r


def test_standardize_output_rechecked_from_bytes_agrees():
    res = enhance(_studio(1600, 900, seed=4), "STANDARDIZE", profile="generic")
    again = check_compliance(res.data, "generic")
    assert res.compliance.passed and again.passed, [r for r in again.rules if not r.passed]
    out = np.asarray(Image.open(io.BytesIO(res.data)).convert("RGB"))
    assert out.shape[:2] == (2000, 2000)


def test_a_matted_products_background_is_read_in_a_band_just_outside_its_matte():
    from enhancer.compliance import Provenance, _background_pixels

    h, w = 800, 1000
    matte = np.zeros((h, w), np.uint8)
    cv2.circle(matte, (500, 400), 200, 255, -1)
    rgb = np.full((h, w, 3), 255, np.uint8)
    rgb[matte > 0] = (40, 80, 120)
    dist = cv2.distanceTransform((matte == 0).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    rgb[(dist > 8) & (dist <= 12)] = (200, 200, 200)  # a halo left round the product, within the band
    rgb[dist > 30] = (0, 255, 0)  # beyond the band: never read
    px, _, where = _background_pixels(rgb, None, Provenance(matted=True, matte=matte))
    r_in, r_out = 0.005 * h, 0.03 * h  # 4 and 24 px
    assert where == "around the product"
    assert len(px) == pytest.approx(np.pi * ((200 + r_out) ** 2 - (200 + r_in) ** 2), rel=0.03)
    assert not (px == (40, 80, 120)).all(1).any()  # none of the product
    assert not (px == (0, 255, 0)).all(1).any()  # nothing from beyond the band
    halo_share = ((200 + 12) ** 2 - (200 + 8) ** 2) / ((200 + r_out) ** 2 - (200 + r_in) ** 2)
    assert (px == (200, 200, 200)).all(1).mean() == pytest.approx(halo_share, abs=0.03)
