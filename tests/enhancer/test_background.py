"""Background removal: mask IoU on seeded studio and busy shots, transparency, white JPEG, same size.

Shots come from benchmarks/shots.py (skimage textures cut to product shapes,
soft shadows, noise, JPEG). Thresholds sit below the benchmark's measured
IoU per shot so codec noise does not flake.
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
import skimage.data

from enhancer import enhance
from enhancer.context import Context, Options
from enhancer.quality import assess_decoded
from enhancer.imageio import decode
from enhancer.steps._studio import Backdrop, backdrop_model, gradient, shade_off_edges, walled_panels
from enhancer.steps.background import _Focus, _in_focus_body, _thin_parts, product_matte, remove_background

from tests.enhancer.imaging_helpers import check, iou, photo, studio_shot, to_bytes

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from background import _draws, chosen_sets, compose, loss_split, summary  # noqa: E402
from shots import compose_busy, fresh_busy_set, fresh_studio_set, held_out_studio_set, small_set  # noqa: E402

def _matte(data: bytes) -> np.ndarray:
    """product_matte of an encoded shot, which must find a product."""
    alpha = product_matte(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    assert alpha is not None
    return alpha


def _holes_open(data: bytes, truth: np.ndarray, name: str, *, floor: float, open_share: float = 0.9,
                what: str = "the head's hole is filled") -> None:
    """The matte of a shot with holes (a racket's head, a mug's handle): at least ``open_share`` of the
    backdrop seen through them left out, and an IoU of at least ``floor``."""
    from enhancer.steps._studio import enclosed

    alpha = _matte(data)
    hole = enclosed(truth > 127)
    assert (alpha[hole] < 128).mean() >= open_share, what
    score = iou(alpha, truth)
    check(score >= floor, name, alpha, f"IoU {score:.3f} < {floor}")


SHOTS = [("chelsea", "white", "bag"), ("coffee", "offwhite_vignette", "box"),
         ("rocket", "grey_sweep", "shoe"), ("colorwheel", "blue_paper", "bottle"),
         ("hubble_deep_field", "pink_paper", "mug"), ("retina", "yellow_paper", "box")]


@pytest.mark.parametrize("texture,background,shape", SHOTS)
def test_mask_matches_known_product(texture, background, shape):
    data, truth = compose(texture, background, shape, side=800, seed=3)
    res = enhance(data, "BACKGROUND_REMOVE", output_format="PNG")
    out = Image.open(io.BytesIO(res.data)).convert("RGBA")
    alpha = np.asarray(out)[..., 3]
    assert out.size == (800, 600)
    score = iou(alpha, truth)
    check(score >= 0.9, f"bg_{texture}_{background}_{shape}", np.asarray(out)[..., :3] * (alpha[..., None] > 127),
          f"IoU {score:.3f} < 0.90")


def test_shadow_is_background():
    data, truth = compose("coffee", "white", "box", side=800, seed=5)
    alpha = _matte(data)
    shadow_only = (truth < 10)
    # below-right of the product is where the composer puts the shadow
    assert (alpha[shadow_only] > 127).mean() < 0.02


def test_webp_keeps_transparency_and_jpeg_goes_on_white():
    data, truth = compose("chelsea", "grey_sweep", "bag", side=800, seed=1)
    webp = Image.open(io.BytesIO(enhance(data, "BACKGROUND_REMOVE", output_format="WEBP").data))
    assert webp.mode == "RGBA" and iou(np.asarray(webp)[..., 3], truth) > 0.88
    jpg = np.asarray(Image.open(io.BytesIO(enhance(data, "BACKGROUND_REMOVE", output_format="JPEG").data)))
    bg = jpg[truth < 5]
    assert jpg.shape[:2] == truth.shape
    assert np.median(bg) >= 254 and (bg.min(axis=-1) >= 245).mean() > 0.97  # pure white, not grey sweep


def test_photo_with_no_product_says_so():
    # gravel from edge to edge: nothing stands out, so nothing is cut, and the notes say why
    img = photo(400, 300, name="gravel")
    ctx = Context(report=assess_decoded(decode(to_bytes(img)), size_bytes=1), options=Options())
    assert remove_background(img, ctx) is img and ctx.alpha is None
    assert any("no product" in n for n in ctx.notes)
    res = enhance(to_bytes(img, "JPEG", quality=90), "BACKGROUND_REMOVE")
    assert any("no product" in n for n in res.notes)
    assert not any("Nothing needed fixing" in n for n in res.notes)


def test_a_product_the_network_misses_at_its_own_size_is_found_at_a_coarser_view():
    """A blue box over a close-up of a cat: at 320 px the network sees nothing salient (its map peaks at
    0.41) and the whole photo was returned as the product; at 224 px it sees the box (before: IoU 0.20,
    the note said no product stood out)."""
    data, truth = compose_busy("cat_photo", "box", finish="solid", texture="retina", side=1600, seed=65046)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.95, "box over a cat", alpha, f"IoU {score:.3f} < 0.95")

def test_existing_cutout_is_kept():
    img, mask = studio_shot(300, 200)
    ctx = Context(report=assess_decoded(decode(to_bytes(img)), size_bytes=1), options=Options(), alpha=mask)
    assert remove_background(img, ctx) is img and ctx.alpha is mask


def test_large_photo_same_size_and_good_mask():
    data, truth = compose("rocket", "offwhite_vignette", "bottle", side=2400, seed=4)
    res = enhance(data, "BACKGROUND_REMOVE", output_format="PNG", target_size_kb=4000)
    out = np.asarray(Image.open(io.BytesIO(res.data)).convert("RGBA"))
    assert res.size_bytes <= 4000 * 1024
    if out.shape[:2] == truth.shape:
        assert iou(out[..., 3], truth) > 0.9


def test_grey_product_with_printed_lines_is_kept_whole():
    # A grey product (the shade of a shadow, same chroma) crossed by dark printed
    # lines: the panels between the lines are walled in by crisp edges and never
    # meet the background, so they cannot be cast shadows.
    data, truth = compose("text", "white", "mug", side=800, seed=1004)
    res = enhance(data, "BACKGROUND_REMOVE", output_format="PNG")
    alpha = np.asarray(Image.open(io.BytesIO(res.data)).convert("RGBA"))[..., 3]
    score = iou(alpha, truth)
    check(score >= 0.8, "bg_text_white_mug", alpha, f"IoU {score:.3f} < 0.80 (was 0.69 before walled-in panels counted)")


def test_white_product_on_white_sweep_with_shadow_is_kept():
    # The backdrop model alone sees a white bottle on a white sweep as backdrop (IoU 0.12
    # in benchmarks/background.py); the learned matte rescues it, and its shadow stays out.
    data, truth = compose("coffee", "white_sweep", "bottle", side=640, seed=3, finish="white")
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.9, "bg_white_on_white", alpha, f"IoU {score:.3f} < 0.90")
    shadow = (truth < 10) & (np.roll(truth, (20, 10), axis=(0, 1)) > 127)  # just below-right of the product
    assert (alpha[shadow] > 127).mean() < 0.1


@pytest.mark.parametrize("scene,shape,finish", [("brick", "bottle", "solid"), ("gravel", "bag", "solid"),
                                                ("page", "shoe", "texture")])
def test_product_on_busy_background(scene, shape, finish):
    data, truth = compose_busy(scene, shape, finish=finish, texture="rocket", side=640, seed=11)
    res = enhance(data, "BACKGROUND_REMOVE", output_format="PNG")
    alpha = np.asarray(Image.open(io.BytesIO(res.data)).convert("RGBA"))[..., 3]
    score = iou(alpha, truth)
    check(score >= 0.85, f"bg_busy_{scene}_{shape}", alpha, f"IoU {score:.3f} < 0.85")


@pytest.mark.parametrize("scene,shape,seed", [("gravel", "bag", 0), ("gravel", "lamp", 2),
                                              ("grass", "bag", 3)])
def test_a_thin_part_joined_to_the_product_by_a_faint_trace_is_kept(scene, shape, seed):
    """On a scene the network sees a bag's handle or a lamp's foot clearly but the strap or stem joining
    it to the body only faintly: one product, not a second, smaller object (before: IoU 0.934, 0.709
    and 0.933)."""
    data, truth = compose_busy(scene, shape, finish="solid", texture="coffee", side=800, seed=seed)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.95, f"bg_faint_link_{scene}_{shape}", alpha, f"IoU {score:.3f} < 0.95")


@pytest.mark.parametrize("scene,shape,seed", [("brick", "lamp", 0), ("grass", "lamp", 0), ("brick", "racket", 5),
                                              ("grass", "bag", 0), ("street", "bag", 3)])
def test_a_stem_the_network_misses_is_kept_for_its_colour(scene, shape, seed):
    """At 320 px a lamp's stem or a racket's handle is a pixel wide and the network drops it (and the
    foot beyond it), or sees a bag's handle apart from its body; its colour is the product's, not the
    scene's (before: IoU 0.716, 0.711, 0.808, 0.938, 0.945)."""
    data, truth = compose_busy(scene, shape, finish="solid", texture="coffee", side=800, seed=seed)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.93, f"bg_stem_{scene}_{shape}", alpha, f"IoU {score:.3f} < 0.93")


@pytest.mark.parametrize("shape,texture,seed", [("lamp", "coffee", 5055), ("racket", "colorwheel", 1090)])
def test_on_a_blurred_scene_the_in_focus_product_wins_over_the_scenes_subject(shape, texture, seed):
    """In front of a blurred sitter the network sees the sitter and little or none of the product (a
    purple lamp's shade is not salient to it at all); the product's crisp outline all round says which
    is the product (before: IoU 0.00 and 0.47)."""
    data, truth = compose_busy("portrait", shape, finish="solid", texture=texture, side=1600, seed=seed,
                               defocus=True)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.9, f"bg_focus_subject_{shape}", alpha, f"IoU {score:.3f} < 0.90")


@pytest.mark.parametrize("scene,shape,finish,texture,seed", [("cafe_table", "bag", "label", "camera", 1014),
                                                              ("page", "racket", "solid", "camera", 7052)])
def test_a_product_before_a_subject_the_frame_cuts_is_split_from_it(scene, shape, finish, texture, seed):
    """In focus, the network takes a café cup or a page running out of the frame in with the product in
    front of it, and the centre look sees the same; split from it along the product's outline, the product
    alone is kept (before: IoU 0.56 and 0.47)."""
    data, truth = compose_busy(scene, shape, finish=finish, texture=texture, side=800, seed=seed)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.9, f"bg_frame_subject_{shape}", alpha, f"IoU {score:.3f} < 0.90")


@pytest.mark.parametrize("scene,shape,finish,texture,seed,defocus", [
    ("clock", "lamp", "label", "immunohistochemistry", 8034, False),
    ("clock", "bottle", "label", "retina", 8079, True),
    ("cell", "box", "solid", "colorwheel", 8043, True)])
def test_a_blurred_prop_on_a_plain_wall_is_not_kept_with_the_product(scene, shape, finish, texture, seed,
                                                                    defocus):
    """A wall clock's face or a cell out of focus on a plain wall: the border passes for a backdrop, so the
    studio matte kept the prop joined to the product; the finer learned map does not see it, and its
    outline is a blurred step (before: IoU 0.39, 0.51, 0.64). The shots are from the unseen set
    (benchmarks/background.py --set unseen --side 1200), scenes no rule was tuned on."""
    data, truth = compose_busy(scene, shape, finish=finish, texture=texture, side=1200, seed=seed,
                               defocus=defocus)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.85, f"bg_blurred_prop_{scene}_{shape}", alpha, f"IoU {score:.3f} < 0.85")


@pytest.mark.parametrize("scene,shape,texture,seed,defocus", [
    ("cell", "box", "hubble_deep_field", 67074, True), ("clock", "shoe", "coins", 67115, False)])
def test_a_blurred_prop_the_finer_map_sees_too_is_not_kept_with_the_product(scene, shape, texture, seed,
                                                                            defocus):
    """A box by a cell out of focus on a plain wall (fresh busy draw 7's 74th shot), a shoe before a wall
    clock's blurred face (its 115th): the wall passes for a backdrop and the finer learned map sees the
    prop as an object too, so it cannot tell it. The product's crisp outline encloses most of the matte
    (the shoe's, 0.48 of it); the part beyond it, a blurred step where it faces away from the product, is
    the prop (before: IoU 0.64 and 0.56)."""
    data, truth = compose_busy(scene, shape, finish="solid", texture=texture, side=1600, seed=seed,
                               defocus=defocus)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.93, f"bg_blurred_prop_seen_{scene}", alpha, f"IoU {score:.3f} < 0.93")


@pytest.mark.parametrize("scene,shape,finish,texture,side,seed,defocus,floor", [
    ("cell", "bag", "texture", "retina", 1200, 8091, True, 0.9),
    ("cell", "lamp", "solid", "coffee", 1600, 66004, True, 0.95),
    ("cat_photo", "bag", "label", "immunohistochemistry", 1600, 5035, False, 0.7)],
    ids=["dropped", "dropped-on-a-plain-wall", "kept"])
def test_a_blurred_part_apart_from_the_product_on_a_scene(scene, shape, finish, texture, side, seed, defocus,
                                                          floor):
    """dropped: a cell out of focus beside a bag, on a scene the border shows is no backdrop; the network
    sees both as objects, the cell's outline is a blurred step and the bag's crisp (before: IoU 0.68; from
    benchmarks/background.py --set unseen --side 1200). kept: a label-printed bag before the cat, whose
    outline is soft where the label meets the fur, with no part of the matte crisp; dropping it would leave
    the cat (IoU 0.75 -> 0.00). dropped on a plain wall: a lamp beside a cell out of focus on a wall that
    passes for a backdrop, so the studio matte decides (fresh busy draw 6, shot 4; before: IoU 0.49)."""
    data, truth = compose_busy(scene, shape, finish=finish, texture=texture, side=side, seed=seed,
                               defocus=defocus)
    alpha = _matte(data)
    check((score := iou(alpha, truth)) >= floor, f"bg_blurred_part_{scene}_{shape}", alpha,
          f"IoU {score:.3f} < {floor}")


@pytest.mark.parametrize("scene,shape,finish,texture,seed,defocus", [
    ("street", "lamp", "texture", "camera", 1024, True),
    ("portrait", "bag", "solid", "chelsea", 1056, False)],
    ids=["stem_in_focus", "sitter_in_focus"])
def test_the_product_s_own_edges_do_not_make_a_blurred_scene_look_in_focus(scene, shape, finish, texture,
                                                                          seed, defocus):
    """stem_in_focus: the network sees a lamp's shade and not its crisp stem and foot on a street out of
    focus; counted as the scene's, their edges made it look in focus, so the crisp body the shade lies in
    was not taken (before: IoU 0.73). sitter_in_focus: a bag on a sitter in focus before a blurred wall;
    the crisp body the bag lies in holds the sitter, whom the frame cuts: her edges stay the scene's, and
    she is not taken with the bag (taken: 0.94 -> 0.60). Both from benchmarks/background.py --set busy
    --seeds 3 --side 1200."""
    data, truth = compose_busy(scene, shape, finish=finish, texture=texture, side=1200, seed=seed,
                               defocus=defocus)
    alpha = _matte(data)
    check((score := iou(alpha, truth)) >= 0.9, f"bg_focus_body_{scene}_{shape}", alpha,
          f"IoU {score:.3f} < 0.9")


def test_a_handle_the_crisp_body_s_gaps_broke_off_is_kept_on_a_blurred_scene():
    """A light bag handle on a street out of focus: the network misses it, and the cells of blurred edges
    next to it part it from the bag's crisp body by a few pixels; it is a crisp body of its own beside
    the product's, and kept (before: 4 % of it kept; from benchmarks/background.py --set busy)."""
    data, truth = compose_busy("street", "bag", finish="texture", texture="astronaut", side=1200, seed=1021,
                               defocus=True)
    alpha = _matte(data)
    ys = np.flatnonzero((truth > 127).any(1))
    handle = np.zeros(truth.shape, bool)
    top = ys[0] + (ys[-1] - ys[0]) // 4  # the bag's body starts lower
    handle[:top] = truth[:top] > 127
    assert (alpha[handle] > 127).mean() >= 0.9, "the handle is lost"
    check((score := iou(alpha, truth)) >= 0.84, "bg_handle_street_bag", alpha, f"IoU {score:.3f} < 0.84")


@pytest.mark.parametrize("texture,backdrop,shape,seed,finish,floor", [
    ("retina", "black", "mug", 904, "texture", 0.95), ("astronaut", "white", "box", 819, "two_tone", 0.68)])
def test_a_part_the_finer_map_misses_is_no_blurred_prop(texture, backdrop, shape, seed, finish, floor):
    """A dark mug's corners on black (a sharp step too faint for Canny) and a white box's light panel on
    white (a step too faint to judge its blur) are outside the finer learned matte with a soft outline,
    like a blurred prop, and stay (dropped as props: IoU 0.98 -> 0.85 and 0.70 -> 0.56)."""
    data, truth = compose(texture, backdrop, shape, side=1600, seed=seed, finish=finish)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= floor, f"bg_not_a_prop_{backdrop}_{shape}", alpha, f"IoU {score:.3f} < {floor}")


def test_a_saucer_meeting_the_frame_along_a_short_stretch_is_not_split_off():
    """The network's matte holds a cup, a saucer and the box in front of them, and only the saucer's rim
    touches the frame: split from it, the cup would stay with the box (IoU 0.87 -> 0.66 without the
    check on how wide the frame cuts the matte). The scene's matte from the 320 px map, as the frame's
    steps leave it. (Its outline runs soft where it opened the box, so the finer look follows; at 448 px
    the network takes the cup in focus with the box, along a crisp outline, and the matte kept is 0.65:
    one of the look's few losses, benchmarks/background.py.)"""
    from enhancer.steps.background import _Focus, _saliency_at, _scene_matte, _working_copy

    data, truth = compose_busy("cafe_table", "box", finish="texture", texture="chelsea", side=1600, seed=1046)
    small = _working_copy(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    mask = _scene_matte(small, _saliency_at(small, 320, quick=True), _Focus(small))
    alpha = cv2.resize(mask.astype(np.uint8) * 255, truth.shape[::-1], interpolation=cv2.INTER_LINEAR)
    score = iou(alpha, truth)
    check(score >= 0.85, "bg_frame_saucer", alpha, f"IoU {score:.3f} < 0.85")


def test_on_a_blurred_scene_a_crisp_label_is_not_taken_for_the_product():
    """A printed label is a crisp-walled body inside the matte too; the bag around it stays (taking the
    label alone: IoU 0.98 -> 0.20)."""
    data, truth = compose_busy("page", "bag", finish="label", texture="astronaut", side=1600, seed=1042,
                               defocus=True)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.95, "bg_focus_label", alpha, f"IoU {score:.3f} < 0.95")


def test_a_scene_region_of_the_products_colour_along_its_side_is_not_taken():
    """A part is joined by a short neck; a region of the product's colour lying along it is the scene."""
    rng = np.random.default_rng(5)
    img = rng.integers(90, 170, (480, 640, 1), dtype=np.uint8).repeat(3, axis=2)  # grey gravel-ish
    img = cv2.GaussianBlur(img, (0, 0), 1.5)
    green = (40, 170, 60)
    mask = np.zeros((480, 640), bool)
    mask[100:220, 200:360] = True                 # the matte: a box's body
    img[100:220, 200:360] = green
    img[220:400, 276:284] = green                 # its stem, missed by the matte
    img[100:220, 360:460] = green                 # the scene: a green wall along the box's side
    out = _thin_parts(img, mask, np.zeros(mask.shape, np.float32))
    assert out[230:390, 277:283].all()            # the stem is added
    assert not out[110:210, 370:450].any()        # the wall is not
    assert not out[300:, :250].any() and (out & ~mask)[:, 300:].sum() == 0


def test_a_stem_and_foot_in_the_products_own_shade_are_added():
    """A lamp's lower stem and foot in shadow: the product's hue at under half its brightness, two or
    more RGB bins away from its lit colour, so its shade bins (chromaticity and a brightness level)
    carry them."""
    rng = np.random.default_rng(8)
    grey = rng.integers(90, 170, (480, 640, 1), dtype=np.uint8).repeat(3, axis=2)
    img = cv2.GaussianBlur(grey, (0, 0), 1.5)
    lit = np.array((40, 170, 60), np.float32)
    mask = np.zeros((480, 640), bool)
    mask[80:200, 240:400] = True                  # the matte: the lamp's shade
    img[mask] = lit.astype(np.uint8)
    img[200:380, 316:324] = (0.45 * lit).astype(np.uint8)  # the stem, in shadow
    cv2.ellipse(img, (320, 390), (60, 14), 0, 0, 360, tuple(int(v) for v in 0.4 * lit), -1)  # the foot
    out = _thin_parts(img, mask, np.zeros(mask.shape, np.float32))
    assert out[210:370, 317:323].all(), "the shaded stem is missed"
    assert out[386:394, 290:350].all(), "the foot is missed"
    assert not (out & ~mask)[:, :250].any() and not (out & ~mask)[:, 400:].any()


@pytest.mark.parametrize("seen", ["left half", "all but the patch"])
def test_a_glossy_patch_of_the_product_on_a_blurred_scene_stays_in_its_body(seen):
    """A product's own soft-edged patch (a helmet's highlight printed on a bag) along its outline holds
    blurred edges as the scene does; its colours are the product's, so the body keeps it, and the scene
    seen through a hole in the product stays out."""
    rng = np.random.default_rng(7)
    cells = rng.integers(20, 150, (16, 22, 1), dtype=np.uint8).repeat(3, axis=2)
    img = cv2.GaussianBlur(cv2.resize(cells, (640, 480), interpolation=cv2.INTER_NEAREST), (0, 0), 3)
    disc, hole = np.zeros((480, 640), np.uint8), np.zeros((480, 640), np.uint8)
    cv2.circle(disc, (320, 240), 120, 1, -1)
    cv2.circle(hole, (260, 200), 30, 1, -1)
    truth = (disc > 0) & (hole == 0)
    patch = np.zeros((480, 640), np.float32)
    cv2.circle(patch, (400, 260), 45, 1.0, -1)
    patch = cv2.GaussianBlur(patch, (0, 0), 3)
    product = np.array((90, 230, 110), np.float32) * (1 - 0.85 * patch[..., None])
    img[truth] = product[truth].astype(np.uint8)
    img[:, 356:359][truth[:, 356:359]] = (30, 60, 30)  # a seam: the patch's side of it is a cell of its own
    mask = truth & (patch < 0.3)  # the network missed the patch
    if seen == "left half":
        mask &= np.arange(640)[None, :] < 330
    focus = _Focus(img)
    assert focus.scene_blurred(mask)
    out = _in_focus_body(mask, focus)
    assert (out & truth).sum() / (out | truth).sum() > 0.95
    assert out[hole > 0].mean() < 0.1


@pytest.mark.parametrize("blobs,kept", [(1, True), (3, False)])
def test_a_salient_blob_of_the_products_colour_is_a_part_unless_it_is_one_of_many(blobs, kept):
    """A lamp's foot the network sees apart from the shade is kept; coins around a coin are a pattern."""
    rng = np.random.default_rng(6)
    img = cv2.GaussianBlur(rng.integers(90, 170, (480, 640, 1), dtype=np.uint8).repeat(3, axis=2), (0, 0), 1.5)
    sal = np.zeros((480, 640), np.float32)
    mask = np.zeros((480, 640), bool)
    mask[80:200, 240:400] = True
    img[mask], sal[mask] = (40, 170, 60), 1.0
    for i in range(blobs):
        y, x = 330, 180 + 140 * i
        cv2.ellipse(img, (x, y), (50, 20), 0, 0, 360, (40, 170, 60), -1)
        cv2.ellipse(sal, (x, y), (50, 20), 0, 0, 360, 1.0, -1)
    out = _thin_parts(img, mask, sal)
    assert out[325:335, 170:190].all() == kept and out[mask].all()


@pytest.mark.parametrize("backdrop", ["offwhite_vignette", "yellow_paper"])
def test_a_mugs_handle_stays_open_where_the_network_fills_it(backdrop):
    """The learned matte fills a dark mug's handle; the backdrop seen through it, enclosed by a product
    that stands out by itself, stays background (at first 0 % of the hole was open, then 62-81 %; since
    the colour refinement's sure rim runs along the outline only, and not round the hole, over 99 %)."""
    from enhancer.steps._studio import enclosed

    for seed in (0, 1):
        data, truth = compose("coins", backdrop, "mug", side=800, seed=seed)
        alpha = _matte(data)
        hole = enclosed(truth > 127)
        assert hole.sum() > 1000
        assert (alpha[hole] < 128).mean() >= 0.9, (backdrop, seed)
        assert iou(alpha, truth) >= 0.93


@pytest.mark.parametrize("texture,backdrop,shape,scale,seed", [
    ("coffee", "grey_sweep", "racket", 0.6, 7), ("coffee", "white_sweep", "mug", 0.4, 7),
    ("rocket", "yellow_paper", "racket", 0.45, 8)])
def test_the_holes_of_a_product_small_in_the_frame_open_through_its_shade(texture, backdrop, shape, scale,
                                                                           seed):
    """A product at 0.4-0.6 of the size the other shots give it casts its shadow over much of what its
    holes show; that shade, walled in by the hole's crisp rim, passed for a grey panel and the holes
    were filled (0-50 % open, IoU 0.39-0.90). The network sees them open: they open (over 95 %, IoU
    0.95-0.99)."""
    data, truth = compose(texture, backdrop, shape, side=800, seed=seed, scale=scale)
    _holes_open(data, truth, f"bg_small_{shape}_{backdrop}", floor=0.94,
                what="the small product's hole is filled")


def _shot(shots, name: str) -> tuple[bytes, np.ndarray]:
    return next((data, truth) for shot, data, truth in shots if shot == name)


@pytest.mark.parametrize("name,shots", [
    # the network's map sags to 0.38 over the panel: no hole it sees open (0.99; 0.87 when it was one)
    ("blue_paper/box/two_tone/camera/x0.26/18", lambda: small_set(draw=1, count=19)),
    # grey coins printed on a grey lamp, where the map dips: detailed, no backdrop (0.98; 0.95 when they were)
    ("grey_sweep/lamp/texture/coins", lambda: held_out_studio_set()),
])
def test_what_the_networks_map_dips_over_inside_a_product_is_no_hole(name, shots):
    data, truth = _shot(shots(), name)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.97, "bg_dip_" + name.replace("/", "_"), alpha, f"IoU {score:.3f} < 0.97")


@pytest.mark.parametrize("shape,seed", [("bag", 900), ("shoe", 903), ("bag", 1000)])
def test_a_dark_print_on_a_dark_backdrop_is_no_hole(shape, seed):
    """Coins printed on a bag on dark grey: the dark gaps between them match the backdrop (or its
    shadow) in level and are enclosed by the product, but their hue is off the backdrop's: they stay
    product (IoU 0.82-0.90 at first; now 0.97-0.98)."""
    data, truth = compose("coins", "dark_grey", shape, side=800, seed=seed)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.95, f"bg_dark_print_{shape}_{seed}", alpha, f"IoU {score:.3f} < 0.95")


@pytest.mark.parametrize("backdrop,seed", [("white", 0), ("white_sweep", 0), ("white_sweep", 2)])
def test_a_white_rackets_head_is_open_on_white(backdrop, seed):
    """White on white, the network fills a racket's head and the backdrop model sees nothing. The
    backdrop seen through the head is enclosed and outlined by the frame's edge all round: it is
    opened (before: 0-24 % of it open, IoU 0.33-0.46; now over 95 %, IoU 0.93-0.96).
    The handle is the weak part: the finer learned map that keeps the shadow out of the head sees it
    as a line only, and seeded as backdrop beside that line it was lost (0.87 / 0.80 on the sweep)."""
    data, truth = compose("coffee", backdrop, "racket", side=800, seed=seed, finish="white")
    _holes_open(data, truth, f"bg_white_racket_{backdrop}_{seed}", floor=0.9)


@pytest.mark.parametrize("texture,backdrop,seed", [("camera", "green_screen", 1005),
                                                    ("hubble_deep_field", "red_paper", 905)])
def test_a_coloured_rackets_head_is_open_on_coloured_paper(texture, backdrop, seed):
    """A racket that stands out from its backdrop is no white-on-white case, though the network fills
    its head: its frame is over 40 % of the learned matte (white products: at most 11 %). Judged white
    on white it lost the backdrop seen through the head (green screen: IoU 0.71; now 0.98)."""
    data, truth = compose(texture, backdrop, "racket", side=1600, seed=seed)
    _holes_open(data, truth, f"bg_racket_{backdrop}", floor=0.93)


def test_a_rackets_head_on_black_is_not_filled_again_after_it_was_found_open():
    """A racket printed with dark coins on black: its head's quarters are found to be the backdrop
    and GrabCut leaves them out, but on black one grey level moves the brightness ratio past the
    backdrop's threshold, so they did not look backdrop-coloured to the hole filling that follows,
    which filled three of them again (before: IoU 0.70, a quarter of the head kept)."""
    data, truth = compose("coins", "black", "racket", side=1600, seed=45043)
    _holes_open(data, truth, "bg_racket_on_black", floor=0.93)


@pytest.mark.parametrize("side", [1600, 1200])
def test_a_strings_shadow_inside_a_rackets_head_is_no_part_of_it(side):
    """A string casts its shadow a few pixels aside, leaving a lit strip of backdrop between the two.
    That shadow, meeting the backdrop right beside the string's crisp edge, passed for a grey panel of
    the racket walled in by its frame, and half the head stayed filled (beige sweep: IoU 0.64)."""
    data, truth = compose("retina", "beige_sweep", "racket", side=side, seed=1005)
    _holes_open(data, truth, f"bg_racket_string_shadow_{side}", floor=0.93)


def test_white_on_white_a_hole_partly_outlined_by_the_shade_cast_into_it_is_edged():
    """A quarter of a white racket's head: the frame's crisp rim outlines half of the backdrop seen
    through it, the soft edge of the shade the frame casts into it the rest, and the mean gradient
    along the outline fell short (a quarter of the head stayed filled, IoU 0.62 -> 0.79). A plain
    band of a white product's shading has no edge along any of its outline."""
    from enhancer.steps._studio import _edged, _ring

    regions = np.zeros((480, 640), bool)
    regions[100:160, 100:160] = True   # a hole: crisp rim on two sides, the cast shade's soft edge on two
    regions[100:160, 300:360] = True   # a hole with the rim along a fifth of its outline
    regions[300:360, 100:160] = True   # a band of shading: no edge
    grad = np.full(regions.shape, 1.0, np.float32)
    grad[97:100, 97:163] = grad[97:163, 97:100] = 12.0
    grad[160:163, 97:163] = grad[97:163, 160:163] = 4.0
    grad[97:100, 297:322] = 12.0
    out = _edged(regions, grad, _ring(regions.shape))
    assert out[100:160, 100:160].all()
    assert not out[100:160, 300:360].any() and not out[300:360, 100:160].any()


@pytest.mark.parametrize("seed", [2101, 2105, 8005])
def test_white_on_white_a_rackets_handle_is_told_from_its_shadow_by_the_shadows_shape(seed):
    """A white racket's handle on a white sweep: its shaded rim meets its own shadow at the same level,
    with no edge between them, and the network sees the handle at under 0.1. The whole handle went
    to the backdrop (0 % kept, IoU 0.70 / 0.74). The racket's own drop shadow, fitted to the shade
    round its head, does not explain the shade beside it: that shade is a part and its shadow. With
    seed 8005 that part, beyond the network's map and softly outlined, then passed for a blurred
    prop and went again (IoU 0.69)."""
    from enhancer.steps._studio import enclosed

    data, truth = compose("coffee", "white_sweep", "racket", side=1600, seed=seed, finish="white")
    alpha = _matte(data)
    hole = enclosed(truth > 127)
    below = np.arange(truth.shape[0])[:, None] > np.nonzero(hole.any(1))[0].max() + 0.05 * truth.shape[0]
    handle = (truth > 127) & below
    assert (alpha[handle] > 127).mean() >= 0.8, "the handle is lost"
    assert (alpha[hole] < 128).mean() >= 0.9, "the head's hole is filled"
    # the handle's shadow stays out: little of the matte beyond the product's outline below the head
    near = cv2.dilate((truth > 127).astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
    spill = (alpha > 127) & below & ~near
    assert spill.sum() < 0.5 * handle.sum()
    score = iou(alpha, truth)
    check(score >= 0.8, f"bg_white_racket_handle_{seed}", alpha, f"IoU {score:.3f} < 0.8")


@pytest.mark.parametrize("seed,side", [(2105, 1600), (660, 1200)])
def test_white_on_white_a_rackets_neck_under_its_heads_shadow_is_kept(seed, side):
    """The handle a white racket's drop shadow finds ends where the head's own shadow explains its
    shade: the neck between them was lost (55-58 % kept, IoU 0.875 / 0.829). The gap along the
    handle's axis, as wide as the handle, is the handle too."""
    from enhancer.steps._studio import enclosed

    data, truth = compose("coffee", "white_sweep", "racket", side=side, seed=seed, finish="white")
    alpha = _matte(data)
    product = truth > 127
    bottom = np.nonzero(enclosed(product).any(1))[0].max()  # the head's hole ends here
    rows, cols = np.mgrid[0:truth.shape[0], 0:truth.shape[1]]
    handle_cols = cols[product & (rows > bottom + 0.05 * truth.shape[0])]
    neck = (product & (rows > bottom) & (rows <= bottom + 0.05 * truth.shape[0])
            & (cols >= handle_cols.min()) & (cols <= handle_cols.max()))
    assert (alpha[neck] > 127).mean() >= 0.9, "the neck is lost"
    score = iou(alpha, truth)
    check(score >= 0.84, f"bg_white_racket_neck_{seed}", alpha, f"IoU {score:.3f} < 0.84")


@pytest.mark.parametrize("seed", [4005, 4008])
def test_white_on_white_the_shadow_beyond_a_tubes_far_side_is_left_out(seed):
    """A white racket's frame is a tube whose far side is as dark as the shadow it casts on the sweep,
    with no edge between: the two were one region, kept whole (the matte beyond the frame's outline
    was 13 % of the product, IoU 0.84 / 0.83). The band the matte trails along the shadow's offset,
    which the rest's shadow explains, is shadow."""
    data, truth = compose("coffee", "white_sweep", "racket", side=1600, seed=seed, finish="white")
    alpha = _matte(data)
    product = truth > 127
    near = cv2.dilate(product.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    spill = (alpha > 127) & ~near
    assert spill.sum() < 0.1 * product.sum(), f"the shadow is kept ({spill.sum() / product.sum():.3f})"
    score = iou(alpha, truth)
    check(score >= 0.84, f"bg_white_racket_far_side_{seed}", alpha, f"IoU {score:.3f} < 0.84")


@pytest.mark.parametrize("seed", [2105, 2107])
def test_a_light_rackets_string_shadows_are_explained_by_its_drop_shadow(seed):
    """A racket whose head is a light panel on off-white: the strings' soft shadows inside the head
    were kept as product (IoU 0.90 / 0.88). The shadow the rest of the racket casts explains them, and
    they meet the backdrop with no crisp edge: they are backdrop."""
    data, truth = compose("coffee", "offwhite_vignette", "racket", side=1600, seed=seed, finish="two_tone")
    _holes_open(data, truth, f"bg_light_racket_{seed}", floor=0.93, open_share=0.95,
                what="the strings' shadows are kept")


@pytest.mark.parametrize("seed", [2000, 2003, 2006, 2007])
def test_white_on_white_a_lamps_stem_leaves_out_the_shadow_beside_it(seed):
    """White on white the network carries the matte, and its coarser map spills into the shadow a
    white lamp casts beside its stem (the stem came out twice as wide). The studio matte takes the
    finer map there (before, 2 MP: IoU 0.82 / 0.79 / 0.82 / 0.79; now 0.93-0.99)."""
    data, truth = compose("coffee", "white_sweep", "lamp", side=1600, seed=seed, finish="white")
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.9, f"bg_white_lamp_{seed}", alpha, f"IoU {score:.3f} < 0.9")
    # the shadow falls to the side of the stem: little of the matte beyond the product's outline
    spill = (alpha > 127) & ~cv2.dilate((truth > 127).astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert spill.sum() < 0.05 * (truth > 127).sum()


def test_white_on_off_white_a_shoes_body_is_not_taken_for_a_hole():
    """A neutral white shoe on a cream sweep: part of its body matches the backdrop's brightness,
    enclosed and edged like a hole. Its hue is off the backdrop's around the product (a median chroma
    angle 4.3 noise levels above it), so it stays product (before: IoU 0.06; now 0.99)."""
    data, truth = compose("coffee", "offwhite_vignette", "shoe", side=1600, seed=2001, finish="white")
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.95, "bg_white_shoe_offwhite", alpha, f"IoU {score:.3f} < 0.95")


@pytest.mark.parametrize("seed,floor", [(2000, 0.95), (2002, 0.97), (2006, 0.95)])
def test_white_on_white_a_handles_hole_opens_through_the_shadow_cast_across_it(seed, floor):
    """A white mug's body casts its shadow across the backdrop seen through the handle: shadow-
    coloured and smooth like the white product, and its soft ramp an edge too, so the hole grew only
    to the ramp and stayed half filled. It grows to the product's crisp outline first (before, 2 MP:
    IoU 0.92 / 0.94 / 0.93 with 42-50 % of the hole open; now 0.96-0.99 with 88-98 % open)."""
    data, truth = compose("coffee", "white_sweep", "mug", side=1600, seed=seed, finish="white")
    _holes_open(data, truth, f"bg_white_mug_hole_{seed}", floor=floor, open_share=0.8,
                what="the handle's hole is filled")


@pytest.mark.parametrize("shape", ["box", "shoe", "bottle"])
def test_a_white_product_without_holes_gets_none_on_white(shape):
    """Where a white product's shading crosses the backdrop's level it is backdrop-coloured and may be
    enclosed, but no edge rings it: it stays product. (Without both the minimum core and the growth
    limit of the hole test, specks of noise on the box and the shoe grew over their whole bodies.)"""
    from enhancer.steps._studio import enclosed

    data, truth = compose("coffee", "white_sweep", shape, side=800, seed=572, finish="white")
    alpha = _matte(data)
    assert enclosed(alpha > 127).sum() < 0.002 * (truth > 127).sum()
    assert iou(alpha, truth) >= 0.93


@pytest.mark.parametrize("shape", ["shoe", "box"])
def test_a_noiseless_white_render_keeps_its_body(shape, monkeypatch):
    """A rendered product has no sensor noise: the hole test's edge thresholds, relative to the
    backdrop's noise, would fall to zero and find 'edges' round a plain band of the product's shading
    (before the floor: the white shoe at 0.763)."""
    import shots

    def lossless(img, rng, jpeg_quality):
        buf = io.BytesIO()
        Image.fromarray(np.clip(img + 0.5, 0, 255).astype(np.uint8)).save(buf, "PNG")
        return buf.getvalue()

    monkeypatch.setattr(shots, "_finish", lossless)
    data, truth = compose("coffee", "white_sweep", shape, side=1200, seed=1, finish="white")
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.95, f"bg_noiseless_white_{shape}", alpha, f"IoU {score:.3f} < 0.95")


@pytest.mark.parametrize("backdrop,floor", [("offwhite_vignette", 0.95), ("grey_sweep", 0.85)])
def test_a_light_lid_above_a_dark_body_is_kept(backdrop, floor):
    """A panel of the backdrop's colour on top of a dark product, cut off from the backdrop by crisp
    edges, is product. It was lost (IoU 0.835 and 0.747): its shaded rim pushed its spread over the
    flat-panel limit, and the backdrop mask, once right, looked like a leak for exceeding the network's."""
    data, truth = compose("chelsea", backdrop, "bag", side=800, seed=0, finish="two_tone")
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= floor, f"bg_light_lid_{backdrop}", alpha, f"IoU {score:.3f} < {floor}")


@pytest.mark.parametrize("texture,backdrop,shape,side,seed,floor", [
    ("chelsea", "white", "bag", 800, 16973, 0.95),
    ("camera", "offwhite_vignette", "bag", 1200, 15454, 0.95),
    ("camera", "offwhite_vignette", "mug", 1200, 14503, 0.93),
])
def test_a_hole_a_light_part_walls_in_is_open(texture, backdrop, shape, side, seed, floor):
    """A bag's handle or a mug's rim in a panel of the backdrop's own colour, shadow-coloured, counted
    as backdrop: the backdrop seen through the handle leaked out through it and stayed filled (IoU
    0.895-0.900). The plain backdrop the product and such parts wall in is a hole."""
    from enhancer.steps._studio import enclosed

    data, truth = compose(texture, backdrop, shape, side=side, seed=seed, finish="two_tone")
    alpha = _matte(data)
    # the handle's feet leave a pixel's gap to the body: closed, the truth encloses the hole
    closed = cv2.morphologyEx(truth, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8)) > 127
    hole = enclosed(closed) & (truth < 128)
    assert hole.sum() > 0.005 * hole.size
    assert (alpha[hole] < 128).mean() >= 0.5, "the handle's hole is filled"
    score = iou(alpha, truth)
    check(score >= floor, f"bg_walled_hole_{shape}_{seed}", alpha, f"IoU {score:.3f} < {floor}")


@pytest.mark.parametrize("texture,backdrop,side,seed", [("colorwheel", "grey_sweep", 1600, 11652),
                                                       ("coffee", "grey_sweep", 1600, 3018),
                                                       ("colorwheel", "blue_paper", 1200, 14413),
                                                       ("colorwheel", "white", 1200, 12000),
                                                       ("colorwheel", "grey_sweep", 2400, 12013)])
def test_a_light_panel_colour_refinement_opens_up_to_its_rim_is_kept(texture, backdrop, side, seed):
    """A mug's upper panel in the backdrop's own colour: the colour refinement took it for backdrop up to
    the rim it keeps as sure product, where nothing in the photo ends it (IoU 0.73; 0.79 once the studio
    matte opened the handle's hole; 0.77). A hole it opens meets that rim on the product's inner outline;
    this opening met it on no edge and is kept. The panel's shading ramps down toward its rim, which is
    no edge either (two_tone_set's mugs at 1200 and 2400 px: 0.76 and 0.73 while the ramp counted)."""
    data, truth = compose(texture, backdrop, "mug", side=side, seed=seed, finish="two_tone")
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.97, f"bg_light_panel_{seed}", alpha, f"IoU {score:.3f} < 0.97")


def test_a_white_lamps_light_shade_is_kept_on_white():
    """A lamp's shade a few levels under the white backdrop, lit from one side and darker at its rim,
    meets the backdrop at a crisp step. Its spread of brightness is over the flat-panel limit, so it
    was taken for the lamp's cast shadow and only the stem and foot were kept (IoU 0.35)."""
    data, truth = compose("coins", "white", "lamp", side=1600, seed=3006, finish="two_tone")
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.9, "bg_white_lamp_shade", alpha, f"IoU {score:.3f} < 0.9")


@pytest.mark.parametrize("side", [800, 1600])
def test_a_grey_print_meeting_its_own_shadow_at_a_faint_edge_is_kept(side):
    """A box printed with a photo whose grey sky runs to its edge, on off-white: where the sky meets the
    box's cast shadow the two are nearly the same level, so they were one shadow-coloured region, unevenly
    lit and softly bordered, and the sky was cut away with the shadow (IoU 0.76 at 800 px, 0.77 at 1600)."""
    data, truth = compose("camera", "offwhite_vignette", "box", side=side, seed=88)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.95, f"bg_grey_print_faint_edge_{side}", alpha, f"IoU {score:.3f} < 0.95")


def test_a_grey_sky_leaking_into_its_shadow_through_a_broken_edge_is_kept():
    """A mug printed with a photo whose grey sky runs to its top edge, on off-white: the crisp edge
    between sky and cast shadow breaks for a pixel at the body's corner, so the two were one
    soft-bordered region and the sky was cut away with the shadow (IoU 0.74)."""
    data, truth = compose("camera", "offwhite_vignette", "mug", side=1600, seed=0)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.93, "bg_grey_sky_broken_edge", alpha, f"IoU {score:.3f} < 0.93")


def _coverage(*, radius: int, thickness: int = -1, shape=(240, 320), s: int = 8) -> np.ndarray:
    """Share of each pixel a centred circle (filled, or a ring ``thickness`` px wide) covers: drawn at s x."""
    h, w = shape
    big = np.zeros((h * s, w * s), np.uint8)
    cv2.circle(big, (w // 2 * s, h // 2 * s), radius * s, 1, thickness * s if thickness > 0 else -1)
    return big.reshape(h, s, w, s).mean(axis=(1, 3))


def _blue_disk_on_white() -> tuple[np.ndarray, np.ndarray]:
    """A blue disk on an off-white backdrop, each pixel the mix its coverage says: (coverage, RGB)."""
    cover = _coverage(radius=70)  # exact share of each pixel inside the disk
    product, backdrop = np.array([40.0, 90.0, 160.0]), np.array([235.0, 232.0, 228.0])
    return cover, (cover[..., None] * product + (1 - cover[..., None]) * backdrop).round().astype(np.uint8)


def test_edge_pixels_get_the_share_of_product_they_hold():
    """A disk drawn at 8x and averaged down: each edge pixel holds a known share of it. Segmentation
    counts such pixels whole; _edge_alpha gives them back their share from the colours on either side."""
    from enhancer.steps.background import _edge_alpha

    cover, img = _blue_disk_on_white()
    mask = cover > 0  # what a segmentation hands over: every touched pixel is product
    alpha = _edge_alpha(img, mask)
    edge = (cover > 0) & (cover < 1)
    assert edge.sum() > 300
    assert np.abs(alpha[edge] - cover[edge]).max() < 0.05
    assert alpha[cover == 1].min() > 0.97 and alpha[cover == 0].max() < 0.03


def test_a_dark_outline_on_the_products_edge_stays_opaque():
    """A light disk with a dark 2 px outline on a grey backdrop: the outline's colour lies beyond the
    backdrop's, away from the product's, so it is no mix of the two and must not be read as "mostly
    background" (without that check 74 fully covered outline pixels came out under alpha 0.5)."""
    from enhancer.steps.background import _edge_alpha

    cover = _coverage(radius=70)
    dark = _coverage(radius=69, thickness=2) * cover
    colour = cover * ((1 - dark) * 225.0 + dark * 10.0) + (1 - cover) * 70.0
    img = np.repeat(colour.round().astype(np.uint8)[..., None], 3, axis=2)
    alpha = _edge_alpha(img, cover > 0)
    assert (alpha[cover == 1] < 0.5).sum() == 0


def test_a_mask_two_pixels_fat_gets_the_share_of_product_its_edge_pixels_hold():
    """The disk of the test above with a mask dilated by 2 px (the shade beside a product, taken in with
    it): the band one projection reads lies wholly on the backdrop, so one pass left 584 backdrop pixels
    over alpha 0.5 (error up to 0.98); projected again from the edge each pass moved to, it is exact."""
    from enhancer.steps.background import _edge_alpha

    cover, img = _blue_disk_on_white()
    fat = cv2.dilate((cover > 0).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    alpha = _edge_alpha(img, fat > 0)
    edge = (cover > 0) & (cover < 1)
    assert np.abs(alpha[edge] - cover[edge]).max() < 0.05
    assert alpha[cover == 1].min() > 0.97 and alpha[cover == 0].max() < 0.03


@pytest.mark.parametrize("texture,backdrop,seed", [("rocket", "pink_paper", 21002),
                                                    ("chelsea", "white", 21006)])
def test_the_shade_beside_a_two_tone_rackets_edge_is_not_kept(texture, backdrop, seed):
    """A racket with a photo-printed lower half casts a soft shade beside its strings and its frame,
    which the matte took in a pixel or two wide: kept beyond the product, 0.027 and 0.020 of its area
    with one projection of the edge, 0.014 and 0.009 with the passes; missed, 0.004 and 0.001."""
    data, truth = compose(texture, backdrop, "racket", side=1200, seed=seed, finish="two_tone")
    a, t = _matte(data) > 127, truth > 127
    assert (a & ~t).sum() / t.sum() < 0.016, "the shade beside the racket's edge is kept"
    assert (~a & t).sum() / t.sum() < 0.01, "the passes ate into the racket"


def test_shade_the_matte_kept_beside_a_dark_part_goes_to_the_parts_crisp_edge():
    """A dark product on a light backdrop, its soft drop shadow down and to the right, and a matte that
    kept a band of that shadow along two sides: the band goes back to the backdrop, up to the product's
    crisp edge, and nothing of the product goes with it."""
    rng = np.random.default_rng(3)
    h, w = 240, 320
    product = np.zeros((h, w), np.uint8)
    cv2.rectangle(product, (110, 60), (170, 200), 255, -1)
    alpha = cv2.GaussianBlur(product.astype(np.float32) / 255, (0, 0), 0.7)[..., None]
    shadow = np.zeros((h, w), np.float32)
    shadow[10:, 12:] = product[:-10, :-12] / 255.0
    shadow = cv2.GaussianBlur(shadow, (0, 0), 10)
    backdrop = np.full((h, w, 3), (235, 232, 228), np.float32) * (1 - 0.35 * shadow)[..., None]
    img = backdrop * (1 - alpha) + np.array([90, 85, 80], np.float32) * alpha
    img = np.clip(img + rng.normal(0, 2, img.shape), 0, 255).astype(np.uint8)
    truth = product > 127
    kept = truth.copy()
    kept[60:205, 171:175] = kept[201:205, 110:175] = True  # a 4 px band of shadow right of and below it
    grad = gradient(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32))
    out = shade_off_edges(img, kept, grad)
    assert iou(kept * np.uint8(255), truth * np.uint8(255)) < 0.92
    assert iou(out * np.uint8(255), truth * np.uint8(255)) > 0.97, "the shadow's band is kept"
    assert not (truth & ~out).any(), "the product went with the shadow"
    assert np.array_equal(shade_off_edges(img, truth, grad), truth), "a matte on the product's edge moved"



def test_a_backdrop_coloured_panel_the_products_crisp_outline_walls_off_is_added():
    """A product on a grey sweep whose upper part is a plain panel at the backdrop's level (a print's grey
    sky), missing from the matte, with a soft drop shadow down and to the right and a handle whose hole
    shows the backdrop: the panel is added up to its crisp edge, a gap of about 6 px in that
    edge (where the panel comes to the backdrop's level) and all; neither the shadow nor the hole is."""
    rng = np.random.default_rng(7)
    h, w = 480, 640
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    sweep = 214 * (1 - 0.2 * yy / h)  # the backdrop's level falls from 214 to 171 down the frame
    body = np.zeros((h, w), np.uint8)
    cv2.rectangle(body, (220, 90), (380, 380), 255, -1)
    handle = np.zeros((h, w), np.uint8)
    cv2.ellipse(handle, (380, 235), (70, 90), 0, -90, 90, 255, 26)
    product = (body | handle) > 0
    hole = np.zeros((h, w), np.uint8)
    cv2.ellipse(hole, (380, 235), (57, 77), 0, -90, 90, 255, -1)
    hole = (hole > 0) & ~product
    panel = body.astype(bool) & (yy < 180)
    shadow = np.zeros((h, w), np.float32)
    shadow[14:, 18:] = product[:-14, :-18]
    shadow = cv2.GaussianBlur(shadow, (0, 0), 9)
    img = np.repeat((sweep * (1 - 0.3 * shadow))[..., None], 3, axis=2)
    print_ = rng.normal(110, 40, (h, w)).astype(np.float32)
    print_ = np.repeat(cv2.GaussianBlur(print_, (0, 0), 1.5)[..., None], 3, axis=2)
    img[product & ~panel] = print_[product & ~panel]
    # the panel: 8 levels under the sweep, but rising smoothly to its level at a point of its left side,
    # where the step that outlines it fades out over about 6 px
    level = sweep - 8 * np.clip(np.hypot(xx - 220, yy - 134) / 6, 0, 1)
    img[panel] = np.repeat(level[..., None], 3, axis=2)[panel]
    img = np.clip(img + rng.normal(0, 1.5, img.shape), 0, 255).astype(np.uint8)
    img = cv2.GaussianBlur(img, (0, 0), 0.6)
    model = backdrop_model(img)
    assert model is not None
    seen = Backdrop.of(img, model)
    matte = product & ~panel
    out = walled_panels(seen, matte)
    assert (out & panel).sum() > 0.97 * panel.sum(), "the panel is not added"
    assert not (matte & ~out).any(), "the matte lost product"
    assert (out & ~product & (shadow > 0.1)).sum() < 0.01 * product.sum(), "the shadow is added"
    assert not (out & hole).any(), "the handle's hole is added"
    assert np.array_equal(walled_panels(seen, product), product), \
        "a whole matte grew"


@pytest.mark.parametrize("seed,side", [(45003, 1600), (45028, 1600), (45028, 1200)])
def test_a_mugs_grey_sky_on_a_grey_sweep_is_kept(seed, side):
    """A mug printed with the cameraman on a grey sweep (fresh studio draw 5): the print's sky is at the
    backdrop's level or a little under, so it went with the backdrop (IoU 0.780, 0.788 and 0.772); its
    crisp outline walls it off from the backdrop. At 1200 px the second mug's outline has an 11 px gap
    where the sky crosses the backdrop's level, which walls closing gaps up to 10 px let it leak out by."""
    data, truth = compose("camera", "grey_sweep", "mug", side=side, seed=seed)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.93, f"bg_grey_sky_mug_{seed}_{side}", alpha, f"IoU {score:.3f} < 0.93")


def test_the_hole_behind_a_handle_in_the_backdrops_colours_is_not_a_panel():
    """A bag printed with the cameraman on a grey sweep, its handle in the sky's grey (fresh studio draw
    6): the handle is no wider than the walls the panels are found between, so the hole under it faced
    the backdrop across it and was taken for a panel of the bag (IoU 0.918 -> 0.849); it faces it along
    a tenth of its outline, and the bag's kept beyond it stays small."""
    data, truth = compose("camera", "grey_sweep", "bag", side=1600, seed=46001)
    a, t = _matte(data) > 127, truth > 127
    assert (a & ~t).sum() / t.sum() < 0.05, "the hole under the bag's handle is filled"

def test_the_shadow_beside_a_two_tone_rackets_dark_half_goes_on_white():
    """A racket whose lower half is a dark photo print, on white (two_tone_set's sixth shot): the matte
    kept the shadow beside that half, 0.198 of the racket's area, as it ran on no edge; now 0.111
    (IoU 0.792 -> 0.850)."""
    data, truth = compose("coffee", "white", "racket", side=1600, seed=12005, finish="two_tone")
    a, t = _matte(data) > 127, truth > 127
    assert (a & ~t).sum() / t.sum() < 0.15, "the shadow beside the racket's dark half is kept"
    assert (~a & t).sum() / t.sum() < 0.07, "the racket went with its shadow"


def test_the_shade_a_white_rackets_frame_casts_into_its_head_opens():
    """A white racket on the white sweep: the frame's shaded rim and the shade it casts into the head are
    one shade-coloured region, crisp along the rim and darker than the shadow explains, so it stayed
    whole. Split along its crisp edges, the shade in the head is judged on its own, and the rest of the
    hole against the shadow of what is left: kept beyond the racket 0.45 of its area before, 0.25 now."""
    data, truth = compose("astronaut", "white_sweep", "racket", side=1200, seed=24003, finish="white")
    a, t = _matte(data) > 127, truth > 127
    assert (a & ~t).sum() / t.sum() < 0.35, "the shade in the racket's head is kept"
    assert (~a & t).sum() / t.sum() < 0.07, "the racket's frame went with the shade"


def test_a_backdrop_coloured_panel_beside_the_matte_is_not_fitted_as_its_shadow():
    """A box whose upper third is a panel in the blue paper's own colour, shaded as a solid: beside the
    printed part the matte found, the panel is shade-coloured, and the drop shadow fitted to the shade
    took it for the shadow (cast upwards, as far off as the fit reaches), explained it and left it out
    (IoU 0.77). Walled off by its crisp outline, it is left out of the fit instead; the shadow fitted
    to the real one does not explain it, and it is the part the matte missed (0.99)."""
    data, truth = compose("immunohistochemistry", "blue_paper", "box", side=1200, seed=24101,
                          finish="two_tone")
    assert iou(_matte(data), truth) >= 0.95


def test_a_panel_the_real_shadow_meets_with_no_edge_is_not_fitted_as_its_shadow():
    """The same box, its panel joined to the backdrop by the real shadow with no edge between, so no
    crisp edge walls it off: the fitted shadow still took the panel for itself (cast upwards, as far
    off as the fit reaches) and it stayed missed (IoU 0.62). A fit at its window's edge is checked
    against the best fits of each half of the window, by what each leaves unexplained: fitted to the
    real shadow, the panel is the part the matte missed (0.99)."""
    data, truth = compose("immunohistochemistry", "blue_paper", "box", side=1200, seed=24100,
                          finish="two_tone")
    assert iou(_matte(data), truth) >= 0.95


@pytest.mark.parametrize("texture,backdrop,shape,seed", [("rocket", "white", "shoe", 0),
                                                         ("retina", "blue_paper", "bottle", 1),
                                                         ("coffee", "grey_sweep", "mug", 2)])
def test_no_rim_of_backdrop_is_left_around_the_product(texture, backdrop, shape, seed):
    """Backdrop pixels kept just outside the edge, per edge pixel: 0.35-0.65 when edge pixels counted
    whole (IoU 0.981-0.987), 0.11-0.21 with their alpha from colour (IoU 0.994-0.997)."""
    data, truth = compose(texture, backdrop, shape, side=1200, seed=seed)
    alpha = _matte(data)
    a, t = alpha > 127, truth > 127
    outside = cv2.distanceTransform((~t).astype(np.uint8), cv2.DIST_L2, 3)
    edge = cv2.morphologyEx(t.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).sum()
    rim = (a & ~t & (outside <= 3)).sum() / edge
    assert rim <= 0.3, rim
    assert iou(alpha, truth) >= 0.99


@pytest.mark.parametrize("fresh", [fresh_studio_set, fresh_busy_set])
def test_a_fresh_draw_is_the_same_shots_each_time_and_another_draw_other_shots(fresh):
    """benchmarks/background.py --set fresh: a draw is reproducible (a figure can be checked), and each
    draw is a new sample (shots no rule was tuned on), every shot with a product in its mask."""
    first, again, other = (list(fresh(side=320, draw=d, count=6)) for d in (4, 4, 5))
    assert [(n, d) for n, d, _ in first] == [(n, d) for n, d, _ in again]
    assert all(np.array_equal(a[2], b[2]) for a, b in zip(first, again))
    assert len({n for n, _, _ in first}) == 6  # names are unique: the saved JSON keeps every shot
    assert not {d for _, d, _ in first} & {d for _, d, _ in other}
    for name, data, truth in first + other:
        assert 0.01 < (truth > 127).mean() < 0.6, name
        assert Image.open(io.BytesIO(data)).size == (320, 240)


def test_the_shade_the_frame_casts_into_a_rackets_head_is_backdrop():
    """A racket with a light panel on white (two_tone_set's fifth shot): the frame casts its shade into
    the head, and walled in by the frame's crisp edges that shade passed for a grey panel of the product.
    The hole grows over it to the frame's crisp outline (before: IoU 0.758)."""
    data, truth = compose("chelsea", "white", "racket", side=1600, seed=12004, finish="two_tone")
    _holes_open(data, truth, "shaded racket head", floor=0.95, open_share=0.95)


def test_a_rackets_head_wholly_in_the_frames_shade_is_backdrop():
    """A photo-printed racket on the grey sweep (fresh studio draw 2's 66th shot): one quarter of its head
    lies wholly in the frame's shade, walled in by the frame all round, so the matte's shade was never
    judged against the backdrop. The product's own shadow explains that shade, and the quarter opens,
    its lit rest with it (before: 0.70 of the head open, IoU 0.674)."""
    data, truth = compose("retina", "grey_sweep", "racket", side=1600, seed=42065, finish="texture")
    _holes_open(data, truth, "racket head in the frame's shade", floor=0.9, open_share=0.9)


@pytest.mark.parametrize("texture,seed,open_share,floor", [("camera", 44010, 0.95, 0.85),
                                                           ("immunohistochemistry", 46138, 0.92, 0.82)])
def test_the_shadow_fitted_again_once_the_head_opens_explains_the_shade_left_in_it(texture, seed,
                                                                                    open_share, floor):
    """Light photo-printed rackets on white (fresh studio draw 4's 10th and draw 6's 138th shots): the
    drop shadow is first fitted to the matte with the head filled, which casts a solid shadow, so the
    fit is too faint (0.18 of the backdrop's level, 0.28 fitted to the true outline) and the shade the
    frame casts into the head, darker than that, stayed as product (0.81 / 0.89 of the holes open, IoU
    0.75 / 0.79). Fitted again to the matte the first judgement left, the shadow deepens and the shade
    is judged again, until the fit stops following the backdrop's shade more closely."""
    data, truth = compose(texture, "white", "racket", side=1600, seed=seed, finish="texture")
    _holes_open(data, truth, "racket head in the frame's shade", floor=floor, open_share=open_share)


def test_a_part_the_shadow_fitted_again_no_longer_explains_is_the_product():
    """A racket printed with coins on white (fresh studio draw 6's 107th shot): the matte missed the
    frame's light prints beside two holes and kept the shadow by the neck; the first fit, faint and
    off, explained neither. Fitted again once that shadow opens, it leaves those prints unexplained,
    and they are found (IoU 0.92 before the fit was made again, 0.95 with later fits only opening
    shade, 0.98 now)."""
    data, truth = compose("coins", "white", "racket", side=1600, seed=46107, finish="texture")
    assert iou(_matte(data), truth) >= 0.965


def test_the_shadow_fitted_again_does_not_grow_a_part_it_added_into_its_own_shadow():
    """A white lamp on the white sweep (fresh studio draw 5's 47th shot): the first round adds the shade
    by its foot as a part, and each later fit, pulled towards that part, left more shade beside it
    unexplained; added round after round, the matte grew into the shadow (IoU 0.87 -> 0.81). A later
    round adds no part beside what earlier rounds added."""
    data, truth = compose("astronaut", "white_sweep", "lamp", side=1600, seed=45047, finish="white")
    assert iou(_matte(data), truth) >= 0.85


def test_grey_on_grey_a_hole_mostly_in_the_frames_shade_opens_to_the_frames_outline():
    """A racket printed with a grey photo on the grey sweep (fresh studio draw 3's 65th shot): the backdrop
    model barely sees it, so the network carries the matte, and where the frame's shade covers most of a
    quarter of the head the plain backdrop left there is a small core whose outline is mostly the shade's
    soft edge, not an edge at all. Grown over the shade to the frame's crisp outline first, it is one
    (before: 0.47 of the head open, IoU 0.472)."""
    data, truth = compose("camera", "grey_sweep", "racket", side=1600, seed=43064, finish="texture")
    _holes_open(data, truth, "grey racket head in the frame's shade", floor=0.55, open_share=0.65)


def test_white_on_white_only_what_the_product_walls_in_all_round_is_a_hole():
    """A plain band of a white bag's shading, grown to the bag's crisp outline, is outlined by an edge as
    a hole is; but beyond a hole lies the product all round, beyond the band the backdrop."""
    from enhancer.steps._studio import _walled

    learned = np.zeros((200, 300), bool)
    learned[20:120, 20:120] = True     # a frame round a hole
    learned[20:180, 150:280] = True    # a body
    regions = np.zeros_like(learned)
    regions[40:100, 40:100] = True     # the hole, 20 px inside the frame
    regions[20:180, 150:280] = True    # the body's band grown to its outline
    out = _walled(regions, learned)
    assert out[40:100, 40:100].all()
    assert not out[20:180, 150:280].any()


def test_the_benchmarks_loss_split_adds_up_to_what_the_iou_loses():
    """benchmarks/background.py splits 1 - IoU into what the matte keeps beyond the product and what it
    misses of it: a matte one column off a square keeps one column of scene and misses one of product."""
    truth = np.zeros((100, 100), np.uint8)
    truth[30:70, 30:70] = 255
    matte = np.roll(truth, 1, axis=1)
    kept, missed = loss_split(matte, truth)
    assert kept == missed == 40 / (41 * 40)
    assert kept + missed == pytest.approx(1 - iou(matte, truth))
    assert loss_split(truth, truth) == (0.0, 0.0)
    assert loss_split(np.full_like(truth, 255), truth) == (1 - 1600 / 10000, 0.0)


def test_the_benchmark_runs_every_set_of_a_kind_with_the_draws_named():
    """benchmarks/background.py --set scenes / backdrops: every busy or every studio set in one run, with
    the fresh draws --draw lists."""
    import argparse

    def names(kind: str, draws: str) -> list[str]:
        args = argparse.Namespace(set=kind, draw=_draws(draws), side=320, seeds=1, count=2)
        return [name for name, _ in chosen_sets(args)]

    assert names("scenes", "4,5") == ["busy", "held-out busy", "unseen", "fresh busy (draw 4)",
                                      "fresh busy (draw 5)"]
    assert names("backdrops", "6") == ["studio", "two-tone", "other backdrops", "held-out studio",
                                       "fresh studio (draw 6)"]
    assert names("fresh", "4,5") == ["fresh studio (draw 4)", "fresh busy (draw 4)", "fresh studio (draw 5)",
                                     "fresh busy (draw 5)"]
    with pytest.raises(argparse.ArgumentTypeError):
        _draws("4,x")


def test_the_benchmark_summary_counts_the_shots_better_and_worse_than_the_saved_run(capsys):
    """With --compare, each set's row says how many shots moved up and down by more than 0.005, and a last
    line sums them; a set the saved run lacks shows dashes and adds nothing."""
    summary({"busy": {"a": 0.90, "b": 0.50, "c": 0.703}, "unseen": {"d": 0.7}},
            {"busy": {"a": 0.80, "b": 0.52, "c": 0.700}})
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    rows = {line.split()[0]: line.split()[1:] for line in lines}
    assert rows["busy"] == ["3", "0.701", "0.500", "0.673", "1", "1"]
    assert rows["unseen"] == ["1", "0.700", "0.700", "-", "-", "-"]
    assert lines[-1] == "shots better than the saved run: 1, worse: 1 (by more than 0.005)"


def test_what_the_network_doubts_beside_a_product_it_is_sure_of_is_the_scene():
    """A plain shoe held before a sitter (fresh busy draw 3's 43rd shot): the network is sure of the shoe
    and, less sure, joins the sitter's shoulder to it. Seeded as the scene, that part is trimmed (before:
    the matte kept 1.7 times the shoe's area of the sitter, IoU 0.367)."""
    data, truth = compose_busy("portrait", "shoe", finish="solid", texture="chelsea", side=1600, seed=63042)
    alpha = _matte(data)
    beyond = np.count_nonzero((alpha > 127) & (truth <= 127)) / np.count_nonzero(truth > 127)
    assert beyond < 0.4, f"the matte keeps {beyond:.2f} of the shoe's area of the sitter"
    score = iou(alpha, truth)
    check(score >= 0.75, "shoe before a sitter", alpha, f"IoU {score:.3f} < 0.75")


def test_the_shadow_cut_off_from_a_white_racket_goes_with_the_shade_opened_beside_it():
    """A white racket on the white sweep (held-out studio's racket): the fitted shadow explains the shade
    along the frame's shadow side, and opening it cut the far side of that shade off from the racket,
    shadow-coloured and soft-edged; it stayed in the matte as a piece of its own (before: 2600 px,
    IoU 0.813). The IoU floor is a guard, not the point: 0.828 with that piece gone, 0.812 since
    _shade_beside_panels opened 72 more working pixels of shade in the head, which took the matte's soft
    outline share from 0.406 to 0.399, under PROP_SOFT, so _blurred_props no longer cut an 882 px part
    (205 of it racket)."""
    data, truth = compose("colorwheel", "white_sweep", "racket", side=1600, seed=3047, finish="white")
    alpha = _matte(data)
    n, labels, stats, _ = cv2.connectedComponentsWithStats((alpha > 127).astype(np.uint8), connectivity=8)
    main = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    apart = (labels > 0) & (labels != main) & (truth <= 127)
    assert apart.sum() < 300, f"{apart.sum()} px of shadow apart from the racket"
    score = iou(alpha, truth)
    check(score >= 0.80, "white racket's cut-off shadow", alpha, f"IoU {score:.3f} < 0.80")


def test_a_mast_the_matte_runs_down_to_the_frame_along_is_the_scenes():
    """A mug before a launch tower at night (fresh busy draw 2's 126th shot): the network joins the
    tower's lit mast to the mug, and the matte ran down it to the bottom of the frame. The product is
    whole in the frame, so the limb the matte meets the frame with, narrow, is the scene's (before:
    IoU 0.858)."""
    data, truth = compose_busy("street", "mug", finish="label", texture="retina", side=1600, seed=62126)
    alpha = _matte(data)
    a = alpha > 127
    band = np.zeros_like(a)
    band[-12:], band[:12], band[:, :12], band[:, -12:] = True, True, True, True
    assert not (a & band).any(), f"the matte meets the frame along {np.count_nonzero(a & band)} px"
    score = iou(alpha, truth)
    check(score >= 0.95, "mug before a mast", alpha, f"IoU {score:.3f} < 0.95")


@pytest.fixture
def passes(monkeypatch):
    """The background network's passes during a test: (a digest of the view's pixels, side) each."""
    import hashlib

    from enhancer.steps import background

    seen = []

    def spy(rgb, *, side, quick=False):
        seen.append((hashlib.sha1(np.ascontiguousarray(rgb)).hexdigest(), side))
        return run(rgb, side=side, quick=quick)

    run = background.saliency
    monkeypatch.setattr(background, "saliency", spy)
    return seen


def test_a_lamps_stem_and_foot_the_coarse_map_misses_are_found_at_the_finer_look(passes):
    """A lamp before the cameraman (unseen-like): at 320 px the network takes the shade and the tripod
    behind it, and the matte's outline runs soft where no edge is. The finer look at 448 px sees the
    stem and foot; its matte's outline is crisp, so it is kept (before: IoU 0.39)."""
    data, truth = compose_busy("cameraman", "lamp", finish="solid", texture="coins", side=1600, seed=63149)
    alpha = _matte(data)
    assert any(side == 448 for _, side in passes), "no finer look"
    assert len(passes) == len(set(passes)), f"a view looked at twice: {passes}"
    score = iou(alpha, truth)
    check(score >= 0.95, "lamp before the cameraman", alpha, f"IoU {score:.3f} < 0.95")


def test_a_scene_matte_with_a_crisp_outline_takes_no_finer_look(passes):
    """A box on gravel, cut cleanly at 320 px: its outline runs along crisp edges all round, and the
    second pass (twice the time of the first) is not run. Each matte makes its own maps: the second
    photo's pass is run again, though its pixels are the same."""
    data, truth = compose_busy("gravel", "box", side=1200, seed=7)
    alpha = _matte(data)
    assert [side for _, side in passes] == [320]
    assert np.array_equal(_matte(data), alpha) and [side for _, side in passes] == [320, 320]
    score = iou(alpha, truth)
    check(score >= 0.95, "box on gravel", alpha, f"IoU {score:.3f} < 0.95")


def test_the_finer_look_does_not_cut_a_subject_down_to_a_detail(passes):
    """A cat's face filling the frame (skimage's chelsea, a real photo): at 320 px the network takes the
    face, whose outline runs soft along the blurred background; at 448 px it takes the eyes alone, crisp
    all round. A finer mask that small a share of the first is a detail of it, not the subject split
    from the scene: the face is kept (before: the eyes, 4 % of the frame)."""
    rgb = skimage.data.chelsea()
    alpha = product_matte(rgb)
    assert any(side == 448 for _, side in passes), "no finer look"
    kept = (alpha > 127).mean()
    check(kept >= 0.5, "cat's face", alpha, f"the matte keeps {kept:.1%} of the frame, not the face")


def test_a_finer_mask_beside_the_first_is_kept_when_the_first_lies_within_its_outline(passes):
    """A racket before the cameraman (fresh busy draw 5's 26th shot): at 320 px the network fills in the
    dark coat the racket's head frames, and the matte's outline runs soft along it. The finer look
    takes the racket alone, crisp all round, so little of it lies in the first mask, as when the finer
    map settles on another object (a café's cup beside the mug). But the first mask lies within the
    racket's outline: what the coarse map filled in, so the racket is kept (before: IoU 0.19)."""
    data, truth = compose_busy("cameraman", "racket", finish="solid", texture="immunohistochemistry",
                               side=1600, seed=65025)
    alpha = _matte(data)
    assert any(side == 448 for _, side in passes), "no finer look"
    score = iou(alpha, truth)
    check(score >= 0.93, "racket before the cameraman", alpha, f"IoU {score:.3f} < 0.93")


@pytest.mark.parametrize("scene,shape,finish,texture,seed", [
    ("cell", "shoe", "label", "coins", 67028),         # fresh busy draw 7's 28th shot
    ("cell", "racket", "solid", "colorwheel", 8047),   # the unseen set's 48th
])
def test_the_finer_look_takes_no_label_for_the_product_it_is_printed_on(passes, scene, shape, finish,
                                                                         texture, seed):
    """A teal shoe with a printed label, on a blurred cell photo: the first mask holds the shoe, its
    outline a little off the shoe's here and there; the finer look takes the label alone, crisp all
    round and a sixth of the shoe. The rest of the shoe rings the label and is in colours the scene
    round it does not show, so it is the product's, and the first mask stays (before: IoU 0.17). A
    racket beside the blurred cell the first mask took in with it: the cell, in colours of its own
    too, lies beside the racket, not round it, and the finer mask, the racket alone, is kept."""
    data, truth = compose_busy(scene, shape, finish=finish, texture=texture, side=1600, seed=seed)
    alpha = _matte(data)
    assert any(side == 448 for _, side in passes), "no finer look"
    score = iou(alpha, truth)
    check(score >= 0.95, f"{shape} on the cell photo", alpha, f"IoU {score:.3f} < 0.95")


def test_a_lamps_stem_and_foot_beyond_a_printed_label_are_found_by_their_colour():
    """A lamp printed with a label across its stem, on the deep field: the network takes the shade, and
    the stem's colour stops at the label, so growing the matte by its colours stops there too. The
    stem below the label and the foot are of the shade's colour, far likelier the product's than the
    scene's, near the matte though apart from it: they are the product's (before: IoU 0.72)."""
    data, truth = compose_busy("hubble", "lamp", finish="label", texture="chelsea", side=1600, seed=62037)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.9, "lamp past its label", alpha, f"IoU {score:.3f} < 0.9")


@pytest.mark.parametrize("scene,shape,finish,texture,seed,before", [
    ("motorcycle", "bottle", "label", "rocket", 66147, 0.00),   # fresh busy draw 6's 147th shot
    ("portrait", "shoe", "label", "astronaut", 64131, 0.60),    # draw 4's 131st
])
def test_a_products_flat_face_the_network_read_as_a_wall_is_the_product(scene, shape, finish, texture, seed,
                                                                          before):
    """A plain bottle before the motorcycle: the network settles on the engine and leaves the bottle
    out; a plain shoe before the sitter: it takes the sitter's chest with the shoe. Either face is one
    colour inside a crisp outline, and the network, shown a crop framing it, sees it as the object
    there: the product (before: IoU 0.00 and 0.60)."""
    data, truth = compose_busy(scene, shape, finish=finish, texture=texture, side=1600, seed=seed)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.95, f"{shape} before the {scene}", alpha, f"IoU {score:.3f} < 0.95 (before: {before})")


@pytest.mark.parametrize("scene,finish,texture,seed,before", [
    ("cafe_table", "label", "hubble_deep_field", 1017, 0.34),  # busy_set's: the worst
    ("cameraman", "solid", "rocket", 65095, 0.16),             # fresh busy draw 5's 95th shot
    ("motorcycle", "label", "rocket", 66006, 0.26),            # draw 6's 6th
])
def test_a_plain_lamp_held_with_the_scene_behind_it_is_what_is_in_its_colour(scene, finish, texture, seed,
                                                                              before):
    """A plain lamp before a café cup, the cameraman's coat, a motorcycle: the network holds its shade
    with the scene behind it and leaves out its foot (below a label on its stem). The shade is a face of
    one colour the matte holds; what is in that colour, its stem and foot, and the label they ring are
    the lamp, the cup and the coat the scene (before: IoU 0.16-0.34)."""
    data, truth = compose_busy(scene, "lamp", finish=finish, texture=texture, side=1600, seed=seed)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.9, f"lamp before the {scene}", alpha, f"IoU {score:.3f} < 0.9 (before: {before})")


def test_a_product_printed_with_a_photo_keeps_its_print_beside_a_plain_patch():
    """A lamp printed with the cameraman before a street out of focus: the print's sky is a plain face
    over 3 % of the frame, and the cameraman printed below it is no colour of that face. Its edges are
    crisp where the street's are blurred: the product's print, not the scene."""
    data, truth = compose_busy("street", "lamp", finish="texture", texture="camera", side=1600, seed=1024,
                               defocus=True)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.97, "printed lamp on a blurred street", alpha, f"IoU {score:.3f} < 0.97")


@pytest.mark.parametrize("finish,texture,seed,defocus,floor,before", [
    ("label", "chelsea", 1020, False, 0.75, 0.42),  # busy_set's: the worst but one
    ("solid", "coins", 5040, True, 0.85, 0.61),     # held_out_busy_set's
    ("solid", "hubble_deep_field", 64051, False, 0.95, 0.55),  # fresh busy draw 4's 51st shot
])
def test_a_plain_rackets_frame_held_with_the_cats_eye_keeps_its_holes_open(finish, texture, seed, defocus,
                                                                            floor, before):
    """A plain racket before the cat: the network holds its ring with the eye seen through its head and
    beside it. The ring is no cell of its own (its strings and edges cut it up) but a quarter or more of
    the matte's outline is its one colour; what is in that colour is a thin frame whose holes are off its
    hue and of the scene's colours: they are opened, and the eye beside the ring dropped."""
    data, truth = compose_busy("cat_photo", "racket", finish=finish, texture=texture, side=1600, seed=seed,
                               defocus=defocus)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= floor, "racket before the cat", alpha, f"IoU {score:.3f} < {floor} (before: {before})")


def test_a_plain_bags_label_and_shaded_face_are_not_taken_for_holes():
    """A plain bag with a label on brick: its outline is its one colour, lit darker at the rim than
    within, so what is in that colour rings its face and the label. Neither is a hole: the face is of the
    bag's hue and the label is walled in by no thin frame (a first form opened them: 0.99 -> 0.68)."""
    data, truth = compose_busy("brick", "bag", finish="label", texture="rocket", side=1600, seed=64085)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.95, "labelled bag on brick", alpha, f"IoU {score:.3f} < 0.95")


def test_what_a_rackets_head_shows_of_the_scene_apart_from_its_frame_is_left_out():
    """A racket on the deep field: its head's holes are opened around the galaxies seen through them,
    and those of the frame's colours stayed as pieces of the matte lying in its holes, no product's
    (before: 14 % of the holes kept, IoU 0.82). The frame rule (_framed_product) takes the lower string,
    grey under the label, with the holes beside it: IoU 0.90 -> 0.82, a loss it was measured with."""
    from enhancer.steps._studio import enclosed

    data, truth = compose_busy("hubble", "racket", finish="label", texture="rocket", side=1600, seed=65057)
    alpha = _matte(data)
    kept = (alpha[enclosed(truth > 127)] > 127).mean()
    score = iou(alpha, truth)
    check(kept <= 0.1 and score >= 0.8, "racket on the deep field", alpha,
          f"IoU {score:.3f}, {kept:.1%} of the holes kept")

def test_a_rackets_head_filled_with_a_blurred_scene_is_opened():
    """A racket before a page out of focus (fresh busy draw 7, shot 45): the network fills its head and
    fuses three of its holes, whose rim is then thin round only 0.75 of the band, and the blurred page
    seen through them is plainer than the page beside it. They hold the page's blurred edges and no
    crisp ones: the scene, not a plain part of the racket (before: 18 % of the holes open, IoU 0.40)."""
    data, truth = compose_busy("page", "racket", finish="texture", texture="camera", side=1600, seed=67045,
                               defocus=True)
    _holes_open(data, truth, "racket before a blurred page", floor=0.8)


def test_a_brick_face_seen_through_a_rackets_head_is_plainer_than_the_walls_mean_but_no_part_of_it():
    """A racket on a brick wall in focus (fresh busy draw 5, shot 120): the network fills a quarter of its
    head with a brick's face, plainer than the wall's mean detail (its mortar lines lift that) though not
    than its median; a hole (before: IoU 0.58, 73 % of the holes open; now 93 %)."""
    data, truth = compose_busy("brick", "racket", finish="solid", texture="camera", side=1600, seed=65120)
    _holes_open(data, truth, "racket on a brick wall", floor=0.7, open_share=0.9)


def test_a_plain_part_in_the_scenes_colours_is_not_taken_for_a_hole():
    """A grey lamp on the moon: the inside of its shade is the moon's grey, unlike the shade's darker
    rim, and the rim is thin around it, so its colours alone made it a hole showing the scene. It is
    plain where the moon beside it is grained: the product's own (before: IoU 0.57, the shade open)."""
    data, truth = compose_busy("moon", "lamp", finish="solid", texture="chelsea", side=1600, seed=64041)
    alpha = _matte(data)
    kept = (alpha[truth > 127] > 127).mean()
    score = iou(alpha, truth)
    check(kept >= 0.95 and score >= 0.95, "lamp on the moon", alpha,
          f"IoU {score:.3f}, {kept:.1%} of the lamp kept")


def test_the_backdrop_split_dot_product_has_the_bits_of_numpys_sum_over_the_channels():
    from enhancer.steps._studio import _dot3

    rng = np.random.default_rng(7)
    a, b = (rng.random((97, 131, 3), dtype=np.float32) * 255 for _ in range(2))
    assert np.array_equal(_dot3(a, b), (a * b).sum(-1))
    assert np.array_equal(np.sqrt(_dot3(a, a)), np.linalg.norm(a, axis=-1))



@pytest.mark.parametrize("scene,finish,texture,seed,defocus", [("cell", "solid", "retina", 8095, False),
                                                                 ("moon", "texture", "camera", 8060, True)])
def test_a_mugs_handle_hole_showing_the_scene_opens_though_its_body_walls_in_half_of_it(
        scene, finish, texture, seed, defocus):
    """A mug on a scene: the network fills its handle's hole. The handle is thin round one side of it
    and the mug's body is the other, so a frame walls in only half of it; but its colours are plainly
    the scene's (median odds e^3 to e^4.6) and its detail is the scene's: a hole (before: IoU 0.90,
    the hole kept)."""
    data, truth = compose_busy(scene, "mug", finish=finish, texture=texture, side=1600, seed=seed,
                               defocus=defocus)
    _holes_open(data, truth, f"mug on {scene}", floor=0.97, what="the handle's hole is filled")


@pytest.mark.parametrize("scene,finish,texture,seed,defocus,what", [
    ("portrait", "texture", "coffee", 5051, False, "a photo print somewhat in the scene's colours"),
    ("cameraman", "label", "immunohistochemistry", 64042, True, "a grey label crisper than the grey scene")])
def test_a_print_half_walled_by_the_products_edge_stays_the_products(scene, finish, texture, seed, defocus,
                                                                      what):
    """A bottle before a portrait or the cameraman: a print on it lies within reach of the bottle's
    outline over half of the band round it, and its colours are likelier the scene's. It is no hole:
    the print before the portrait is only somewhat likelier the scene's (median odds e^1.25; opened
    at any odds the bottle fell from IoU 0.93 to 0.62), and the grey label before the grey scene,
    plainly the scene's colours (e^3.6), holds 2.7 times the fine detail of the blurred scene beside
    it (opened, 1.00 -> 0.85)."""
    data, truth = compose_busy(scene, "bottle", finish=finish, texture=texture, side=1600, seed=seed,
                               defocus=defocus)
    alpha = _matte(data)
    kept = (alpha[truth > 127] > 127).mean()
    score = iou(alpha, truth)
    check(kept >= 0.95 and score >= 0.9, f"bottle before the {scene}", alpha,
          f"{what}: IoU {score:.3f}, {kept:.1%} of the bottle kept")


def test_a_part_of_a_studio_product_broken_off_by_its_backdrop_coloured_panel_is_no_blurred_prop():
    """A small two-tone mug on pink paper (small products draw 1, shot 64): its panel is the paper's
    pink, so the handle's upper arc lies apart from the rest of the matte, its outline soft. A prop out of
    focus holds blurred edges of its own (a cell: about 590); the arc holds none and stays (before the
    studio matte asked for them: IoU 0.62)."""
    from itertools import islice

    _, data, truth = next(islice(small_set(side=1600, draw=1, count=65), 64, None))
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= 0.65, "bg_two_tone_mug_handle", alpha, f"IoU {score:.3f} < 0.65")


@pytest.mark.parametrize("scene,shape,texture,seed,floor,before", [
    ("gravel", "box", "astronaut", 65020, 0.78, 0.55),  # fresh busy draw 5, shot 20
    ("coins", "box", "astronaut", 65073, 0.62, 0.44),   # ... shot 73
    ("street", "bag", "camera", 5042, 0.55, 0.42),      # held_out_busy_set's
])
def test_the_rest_of_a_product_printed_with_a_photo_is_found_in_colours_the_scene_lacks(scene, shape, texture,
                                                                                      seed, floor, before):
    """A box printed with the astronaut on gravel or coins, a bag printed with the cameraman on a street:
    the network holds the print's subject (the sitter, the man) and not its backdrop. That backdrop's
    colours, with their grain (the print's plain grey beside gravel's busy grey), are nowhere in the
    frame's outer band, where the scene is: the cells in them beside the matte are the product's."""
    data, truth = compose_busy(scene, shape, finish="texture", texture=texture, side=1600, seed=seed)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= floor, f"{shape} printed with the {texture} on {scene}", alpha,
          f"IoU {score:.3f} < {floor} (before: {before})")


@pytest.mark.parametrize("scene,shape,finish,texture,seed,floor", [
    ("moon", "lamp", "solid", "coins", 65003, 0.98),      # fresh busy draw 5, shot 3: 0.996
    ("street", "racket", "label", "rocket", 5047, 0.82),  # held_out_busy_set's: 0.834
])
def test_a_plain_products_right_matte_takes_no_foreign_scene_beside_it(scene, shape, finish, texture, seed,
                                                                         floor):
    """A plain lamp before the moon and a labelled racket before the rocket: beside each lies a piece of
    the scene (the moon's limb, the rocket's body) whose colours the frame's band does not show. Taken
    as the rest of a print, it cost them 0.05 and 0.08 of IoU; such a fringe adds under a tenth of the
    product's extent (its convex hull), a print's backdrop more."""
    data, truth = compose_busy(scene, shape, finish=finish, texture=texture, side=1600, seed=seed)
    alpha = _matte(data)
    score = iou(alpha, truth)
    check(score >= floor, f"{shape} before the {scene}", alpha, f"IoU {score:.3f} < {floor}")
