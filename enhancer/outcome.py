"""What a run did, in plain words: what was fixed, why nothing changed, why the file grew.

:func:`enhancer.enhance` builds its ``fixed`` list and part of its ``notes``
here, from the before/after quality reports, the steps applied and the
provenance of the output; the wording lives in one place.
"""
from __future__ import annotations

from .compliance import Provenance
from .types import QualityReport

#: Why a step that was asked for changed nothing (read from the upload's report).
_NOTHING = {
    "denoise": lambda r, o: f"the noise (sigma about {r.noise:.1f}) is too low to need removing",
    "light_correction": lambda r, o: "exposure, contrast and colour are already within range",
    "sharpen": lambda r, o: (f"it is already sharp (sharpness {r.blur_score:.0f})" if r.blur_score >= 35
                             else "its blur is not one a sharpening filter can undo"),
    "upscale": lambda r, o: (f"it is already {max(r.width, r.height)} px, at or above the "
                             f"{o.upscale_target} px target"),
    "upscale_if_small": lambda r, o: f"it is {max(r.width, r.height)} px, large enough",
    "remove_background": lambda r, o: ("no product stands out from the background, so nothing was cut; "
                                       "photograph the product on its own, filling more of the frame"),
}
#: ... and why background removal changed nothing on an upload that came cut out
_KEPT_CUT_OUT = "the upload's background is already transparent, and its cut-out was kept"


def nothing_done(mode: str, steps: tuple[str, ...], before: QualityReport, options, *,
                 cut_out: bool = False) -> str | None:
    """The note for a mode none of whose steps changed the photo, or None for AUTO/OPTIMIZE; ``cut_out``:
    the upload had a transparent background of its own (background removal keeps it)."""
    if not steps or mode in ("AUTO", "OPTIMIZE"):
        return None
    reasons = [_KEPT_CUT_OUT if s == "remove_background" and cut_out else _NOTHING[s](before, options)
               for s in steps if s in _NOTHING]
    why = "; ".join(reasons) if reasons else "nothing needed it"
    return f"{mode} changed nothing: {why}."


def fixed(before: QualityReport, after: QualityReport, applied: list[str], prov: Provenance,
          *, canvas: tuple[int, int] | None = None, transparent: bool = False) -> tuple[str, ...]:
    """What the applied steps fixed, measured before -> after."""
    out: list[str] = []
    for step in applied:
        if step == "denoise":
            out.append(f"Removed noise (sigma about {before.noise:.0f} -> {after.noise:.0f})")
        elif step == "light_correction":
            if before.brightness < 70 and after.brightness > before.brightness:
                out.append(f"Lifted exposure (brightness {before.brightness:.0f} -> {after.brightness:.0f})")
            elif before.brightness > 215 and after.brightness < before.brightness:
                out.append(f"Lowered exposure (brightness {before.brightness:.0f} -> {after.brightness:.0f})")
            elif before.contrast < 30 and after.contrast > before.contrast:
                out.append(f"Raised contrast ({before.contrast:.0f} -> {after.contrast:.0f})")
            else:
                out.append("Corrected exposure and colour balance")
        elif step == "sharpen":
            out.append(f"Sharpened (sharpness {before.blur_score:.0f} -> {after.blur_score:.0f})")
        elif step in ("upscale", "upscale_if_small"):
            out.append(f"Upscaled {before.width}x{before.height} -> {after.width}x{after.height}")
        elif step == "remove_background":
            out.append("Removed the background (transparent)" if transparent
                       else "Removed the background (replaced with white)")
        elif step == "standardize" and canvas is not None:
            what = "the product" if prov.matted else "the whole photo (no product could be isolated)"
            out.append(f"Placed {what} on a {canvas[0]}x{canvas[1]} canvas")
    return tuple(out)


def magnified(prov: Provenance, out_long: int, *, need: int = 500) -> str | None:
    """A warning for a result blown up from less real detail than ``need`` pixels."""
    if prov.source_size is None or prov.scale <= 1.5:
        return None
    detail = out_long / prov.scale
    if detail >= need:
        return None
    w, h = prov.source_size
    return (f"Magnified {prov.scale:.1f}x from a {w}x{h} source: about {detail:.0f} px of real detail, "
            f"less than the {need} px marketplaces zoom into; it looks soft at full size. "
            "Use a larger original.")


def size_notes(*, upload_bytes: int, upload_format: str, upload_size: tuple[int, int], result_bytes: int,
               result_format: str, result_size: tuple[int, int]) -> list[str]:
    """Why the result is larger than the upload, when it is."""
    if result_bytes <= upload_bytes:
        return []
    why = []
    if result_format != upload_format and result_format == "PNG":
        why.append(f"PNG is lossless (the upload was {upload_format})")
    elif result_format != upload_format:
        why.append(f"the format changed from {upload_format} to {result_format}")
    up_px, out_px = upload_size[0] * upload_size[1], result_size[0] * result_size[1]
    if out_px > 1.05 * up_px:
        why.append(f"it has {out_px / up_px:.1f}x the pixels ({upload_size[0]}x{upload_size[1]} -> "
                   f"{result_size[0]}x{result_size[1]})")
    if not why:
        why.append("the upload was compressed harder than our default quality")
    ratio = result_bytes / max(1, upload_bytes)
    grew = f"{ratio:.1f}x" if ratio >= 1.95 else f"{(ratio - 1) * 100:.0f}%"
    return [f"The result is larger than the upload ({grew}): " + "; ".join(why)
            + ". Set a size target to cap it."]


def downscale_note(*, before: tuple[int, int], after: tuple[int, int], target_bytes: int, result_bytes: int,
                   scaled: float) -> str:
    """From -> to, and the budget that would have kept the full size."""
    # the fit's own model: bytes grow with pixels^0.85, i.e. with the linear scale^1.7
    need = result_bytes / max(scaled, 1e-3) ** 1.7
    step = 50 * 1024 if need > 200 * 1024 else 10 * 1024
    need_kb = int(-(-need // step) * step / 1024)
    return (f"Downscaled from {before[0]}x{before[1]} to {after[0]}x{after[1]} to fit the "
            f"{target_bytes / 1024:.0f} KB budget; a target of about {need_kb} KB keeps the full size.")
