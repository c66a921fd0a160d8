"""Rendering helpers shared by the pages: previews, the before/after wipe, metrics, exports.

User-supplied text (file names, SKUs, error messages) is always passed through
:func:`esc` or shown with ``st.text``/``st.code``; nothing here uses
``unsafe_allow_html``.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable

import streamlit as st
from PIL import Image, ImageDraw, ImageOps

from enhancer.export_safe import csv_bytes, xlsx_bytes

_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|>~<$])")


def esc(text: object) -> str:
    """Escape Markdown so a file name like ``**x**.jpg`` or ``[a](b)`` renders literally."""
    return _MD_SPECIAL.sub(r"\\\1", str(text if text is not None else ""))


def _open(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img = ImageOps.exif_transpose(img)
    if img.mode not in ("RGB", "L"):
        # Flatten transparency onto white, like marketplaces show it.
        rgba = img.convert("RGBA")
        bg = Image.new("RGB", rgba.size, (255, 255, 255))
        bg.paste(rgba, mask=rgba.getchannel("A"))
        img = bg
    return img.convert("RGB")


def downscale(data: bytes, max_side: int = 720) -> bytes:
    """A small JPEG preview of ``data`` (never the full-size file)."""
    img = _open(data)
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85, optimize=True)
    return buf.getvalue()


def wipe(before: bytes, after: bytes, position: int) -> bytes:
    """Before/after wipe composed server-side: left ``position`` % shows before, the rest after."""
    a = _open(after)
    b = _open(before).resize(a.size, Image.Resampling.LANCZOS)
    x = round(a.width * max(0, min(100, position)) / 100)
    out = a.copy()
    if x:
        out.paste(b.crop((0, 0, x, a.height)), (0, 0))
    draw = ImageDraw.Draw(out)
    draw.line([(x, 0), (x, a.height)], fill=(255, 255, 255), width=3)
    draw.line([(x, 0), (x, a.height)], fill=(30, 30, 30), width=1)
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def fmt(value, suffix: str = "", digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{suffix}"
    return f"{value}{suffix}"


def signed(value, suffix: str = "", digits: int = 1) -> str:
    return "–" if value is None else f"{value:+.{digits}f}{suffix}"


def delta(a, b, digits: int = 1) -> str | None:
    if a is None or b is None:
        return None
    return f"{b - a:+.{digits}f}"


def quality_metrics(q_before, q_after, blur_before=None, blur_after=None, size_before=None, size_after=None,
                    reduction=None, ms=None) -> None:
    """One row of st.metric: quality, blur, size and time."""
    c = st.columns(4)
    c[0].metric("Quality", fmt(q_after), delta(q_before, q_after), help=f"Before: {fmt(q_before)}")
    c[1].metric("Sharpness", fmt(blur_after), delta(blur_before, blur_after),
                help=f"Blur score; higher is sharper. Before: {fmt(blur_before)}")
    c[2].metric("Size", fmt(size_after, " KB"), None if reduction is None else f"{-reduction:+.1f}%",
                delta_color="inverse", help=f"Original: {fmt(size_before, ' KB')}")
    c[3].metric("Processing time", fmt(ms, " ms", 0))


def compliance(report: dict | None) -> None:
    """The marketplace compliance report as a table (rules, pass/fail, detail)."""
    if not report:
        return
    rules = report.get("rules") or report.get("results") or []
    label = f"Compliance: {report.get('profile', '')} — " + ("passed" if report.get("passed") else "issues")
    with st.expander(label, expanded=False):
        if rules and isinstance(rules, list):
            st.dataframe(rules, hide_index=True, width="stretch")
        else:
            st.json(report)


def zip_files(items: Iterable[tuple[str, Callable[[], bytes]]]) -> bytes:
    """A ZIP of (name, reader) pairs; duplicate names get a numeric suffix."""
    buf = io.BytesIO()
    seen: dict[str, int] = {}
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:  # images are compressed already
        for name, read in items:
            n = seen.get(name, 0)
            seen[name] = n + 1
            if n:
                stem, dot, ext = name.rpartition(".")
                name = f"{stem}_{n}.{ext}" if dot else f"{name}_{n}"
            z.writestr(name, read())
    return buf.getvalue()


def to_csv(rows: list[dict]) -> bytes:
    return csv_bytes(rows)


def to_json(rows: list[dict]) -> bytes:
    return json.dumps(rows, default=str, indent=1).encode("utf-8")


def to_excel(rows: list[dict]) -> bytes:
    return xlsx_bytes(rows, sheet="images")


def mode_label(mode: str | None) -> str:
    """How every page names a mode: ``LIGHT_CORRECTION`` → ``Light correction``."""
    return (mode or "–").replace("_", " ").capitalize()
