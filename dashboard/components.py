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
from typing import TYPE_CHECKING

import streamlit as st
from PIL import Image, ImageDraw, ImageOps

from enhancer.export_safe import csv_bytes, xlsx_bytes

if TYPE_CHECKING:
    import pandas as pd

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


LETTERBOX = (243, 245, 249)  # the theme's secondary background: the original's frame stays visible


def letterbox(img: Image.Image, size: tuple[int, int], colour=LETTERBOX) -> Image.Image:
    """``img`` scaled to fit inside ``size`` with its own aspect ratio, centred on a plain frame."""
    if img.size == size:
        return img
    f = min(size[0] / img.width, size[1] / img.height)
    inner = img.resize((max(1, round(img.width * f)), max(1, round(img.height * f))),
                       Image.Resampling.LANCZOS)
    out = Image.new("RGB", size, colour)
    out.paste(inner, ((size[0] - inner.width) // 2, (size[1] - inner.height) // 2))
    return out


def wipe(before: bytes, after: bytes, position: int) -> bytes:
    """Before/after wipe composed server-side: left ``position`` % shows before, the rest after.

    The original keeps its aspect ratio: when the result's shape differs (a
    square marketplace canvas from a 4:3 photo) it is letterboxed into the
    result's frame, never stretched.
    """
    a = _open(after)
    b = letterbox(_open(before), a.size)
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


def size_change(size_before, size_after, *, format_before: str | None = None, format_after: str | None = None,
                dims_before: tuple[int, int] | None = None, dims_after: tuple[int, int] | None = None,
                ) -> tuple[str | None, str, str]:
    """How to show a file-size change: (delta text, delta colour, why).

    A smaller file is "-35%" in green. A larger one is not a failure to hide
    behind "+4819%": it says "x49" and why (a lossless format, a bigger
    canvas), and is shown neutral when that reason explains it.
    """
    if not size_before or size_after is None:
        return None, "off", ""
    ratio = size_after / size_before
    if ratio <= 1:
        return f"{(ratio - 1) * 100:+.1f}%", "inverse", ""
    why = []
    if format_before and format_after and format_before.upper() != format_after.upper():
        fb, fa = format_before.upper(), format_after.upper()
        why.append(f"{fa} is lossless (the upload was {fb})" if fa == "PNG" else f"{fb} -> {fa}")
    if dims_before and dims_after:
        grow = (dims_after[0] * dims_after[1]) / max(1, dims_before[0] * dims_before[1])
        if grow > 1.05:
            why.append(f"{grow:.1f}x the pixels ({dims_before[0]}x{dims_before[1]} -> "
                       f"{dims_after[0]}x{dims_after[1]})")
    text = f"x{ratio:.1f} larger" if ratio >= 2 else f"{(ratio - 1) * 100:+.1f}%"
    return text, ("off" if why else "inverse"), "; ".join(why)


def quality_metrics(q_before, q_after, blur_before=None, blur_after=None, size_before=None, size_after=None,
                    reduction=None, ms=None, *, format_before: str | None = None,
                    format_after: str | None = None, dims_before: tuple[int, int] | None = None,
                    dims_after: tuple[int, int] | None = None) -> None:
    """One row of st.metric: quality, blur, size and time.

    Sizes are KB. Pass the formats and dimensions when known: a result that
    grew because it is a PNG or a larger canvas then says so instead of a
    red percentage.
    """
    c = st.columns(4)
    c[0].metric("Quality", fmt(q_after), delta(q_before, q_after), help=f"Before: {fmt(q_before)}")
    c[1].metric("Sharpness", fmt(blur_after), delta(blur_before, blur_after),
                help=f"Blur score; higher is sharper. Before: {fmt(blur_before)}")
    if size_before and size_after is not None:
        text, colour, why = size_change(size_before, size_after, format_before=format_before,
                                        format_after=format_after, dims_before=dims_before,
                                        dims_after=dims_after)
    else:
        text, colour, why = (None if reduction is None else f"{-reduction:+.1f}%"), "inverse", ""
    help_ = f"Original: {fmt(size_before, ' KB')}" + (f". Larger because {why}." if why else "")
    c[2].metric("Size", fmt(size_after, " KB"), text, delta_color=colour, help=help_)
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


def reduction_histogram(percent) -> "pd.DataFrame":
    """Size-reduction counts in 10-point bins from -50 % to 100 %, in numeric order.

    The labels are text ("-10 to 0"), so the chart must keep this row order
    (``sort=False``): sorted as text, "-10" would come before "-50".
    """
    import pandas as pd

    edges = list(range(-50, 101, 10))
    values = pd.Series(percent, dtype="float64").clip(-50, 100)
    bins = pd.cut(values, bins=edges, include_lowest=True)
    counts = bins.value_counts(sort=False).sort_index()
    labels = [f"{lo} to {hi}" for lo, hi in zip(edges[:-1], edges[1:])]
    return pd.DataFrame({"reduction %": labels, "images": counts.to_numpy()})


def processing_time_by_day(rows: "pd.DataFrame") -> tuple[str, "pd.DataFrame"]:
    """Median processing time by day and mode, and the chart kind that shows it.

    One day of data is a single point per mode, which a line chart does not
    draw: then it is a bar per mode ("bar"), otherwise lines over days ("line").
    """
    import pandas as pd

    day = pd.to_datetime(rows["created_at"]).dt.date.astype(str)
    table = rows.assign(day=day).pivot_table(index="day", columns="mode", values="processing_time_ms",
                                             aggfunc="median")
    if len(table) < 2:
        per_mode = rows.groupby("mode")["processing_time_ms"].median().rename("median ms").reset_index()
        return "bar", per_mode
    return "line", table


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
