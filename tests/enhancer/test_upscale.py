"""upscale: target size and limits, alpha carried, detail beats Lanczos."""
import cv2
import numpy as np
import pytest
from PIL import Image

from enhancer.steps.upscale import MAX_SIDE, upscale, upscale_if_small
from tests.enhancer._photos import check, ctx_for, photo, ssim


def test_reaches_target_longest_side():
    img = photo("chelsea")  # 451 x 300
    out = upscale(img, ctx_for(img, upscale_target=900))
    assert max(out.shape[:2]) == 900 and out.shape[1] / out.shape[0] == pytest.approx(451 / 300, rel=0.01)


def test_factor_is_capped_at_four():
    img = photo("astronaut", side=100)
    out = upscale(img, ctx_for(img, upscale_target=2000))
    assert max(out.shape[:2]) == 400


def test_never_beyond_max_side():
    img = np.zeros((10, 3000, 3), np.uint8)
    out = upscale(img, ctx_for(img, upscale_target=50_000))
    assert max(out.shape[:2]) == MAX_SIDE


def test_noop_when_large_enough():
    img = photo("astronaut")
    assert upscale(img, ctx_for(img, upscale_target=512)) is img


def test_alpha_is_resized_with_the_image():
    img = photo("astronaut", side=200)
    ctx = ctx_for(img, upscale_target=400)
    ctx.alpha = np.full(img.shape[:2], 255, np.uint8)
    out = upscale(img, ctx)
    assert ctx.alpha.shape == out.shape[:2]


@pytest.mark.parametrize("factor", [2, 3])
def test_beats_lanczos(factor):
    ref = photo("astronaut")
    lr = cv2.resize(ref, (512 // factor, 512 // factor), interpolation=cv2.INTER_AREA)
    out = upscale(lr, ctx_for(lr, upscale_target=512))
    out = cv2.resize(out, (512, 512), interpolation=cv2.INTER_LINEAR) if out.shape[0] != 512 else out
    lan = np.asarray(Image.fromarray(lr).resize((512, 512), Image.Resampling.LANCZOS))
    check(ssim(out, ref) > ssim(lan, ref), out, f"upscale_x{factor}", "worse than Lanczos")


def test_auto_upscales_only_photos_too_small_to_sell():
    big = photo("astronaut")
    assert upscale_if_small(big, ctx_for(big)) is big
    small = photo("astronaut", side=300)
    assert max(upscale_if_small(small, ctx_for(small)).shape[:2]) == 1200
