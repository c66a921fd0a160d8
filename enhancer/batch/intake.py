"""Read what a batch is made of, one item at a time (never the whole set in memory).

Sources: a CSV/XLSX manifest of ``sku_id,image_url`` (+ optional per-row
``mode,target_size_kb,output_format,profile``), a ZIP (nested folders
allowed), or a folder. A bad row or a refused archive entry becomes an item
with ``error`` set (recorded as failed); only a source that is unusable as a
whole raises :class:`IntakeError`.
"""
from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..formats import normalize
from ..options import EnhanceOptions, clean_sku
from ..service import sku_from_filename
from ..types import Mode
from .errors import IntakeError

KINDS = ("csv", "xlsx", "zip", "folder")
MAX_FIELD = 4096  # a manifest cell longer than this is refused, not read into every error message
REQUIRED = ("sku_id", "image_url")
OPTIONAL = ("mode", "target_size_kb", "output_format", "profile")


@dataclass(frozen=True)
class IntakeItem:
    """One photo to process: where it comes from, its SKU and per-row overrides, or why it was refused."""

    position: int
    source: str
    sku_id: str | None = None
    mode: str | None = None
    target_size_kb: int | None = None
    output_format: str | None = None
    profile: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class ZipLimits:
    """Zip-bomb guards. ``max_entry_bytes`` is usually the upload limit."""

    max_entries: int = 20_000
    max_entry_bytes: int = 50 * 1024 * 1024
    max_total_bytes: int = 4 * 1024 ** 3
    max_ratio: float = 100.0


def detect_kind(path: str | Path) -> str:
    """``csv``, ``xlsx``, ``zip`` or ``folder`` from the path (ZIPs are also recognised by their bytes)."""
    p = Path(path)
    if p.is_dir():
        return "folder"
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file or folder")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix == ".zip" or zipfile.is_zipfile(p):
        return "zip"
    raise IntakeError(f"{p.name}: not a CSV, XLSX, ZIP or folder; give a manifest with columns "
                      f"{', '.join(REQUIRED)}, a ZIP of photos, or a folder of photos")


def iter_items(kind: str, path: str | Path, *, zip_limits: ZipLimits = ZipLimits()) -> Iterator[IntakeItem]:
    """Stream the items of a source, numbered from 0 in a stable order."""
    readers = {"csv": _csv_rows, "xlsx": _xlsx_rows, "zip": None, "folder": None}
    if kind not in readers:
        raise ValueError(f"unknown source kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    if kind == "zip":
        yield from _zip_items(Path(path), zip_limits)
    elif kind == "folder":
        yield from _folder_items(Path(path))
    else:
        yield from _manifest_items(readers[kind](Path(path)))


def fingerprint(kind: str, path: str | Path) -> str:
    """SHA-256 of the source: file bytes, or for a folder its relative paths, sizes and mtimes."""
    h, p = hashlib.sha256(kind.encode()), Path(path)
    if kind == "folder":
        for f in sorted(_folder_files(p)):
            st = (p / f).stat()
            h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    else:
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


# -- manifests -----------------------------------------------------------------------------

def _csv_rows(path: Path) -> Iterator[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
            if header is None:
                raise IntakeError(f"{path.name}: the manifest is empty")
            cols = _columns(header, path.name)
            for row in reader:
                if any(c.strip() for c in row):
                    yield {name: (row[i].strip() if i < len(row) else "") for name, i in cols.items()}
        except csv.Error as exc:  # e.g. a field over the csv module's 128 KB limit
            raise IntakeError(f"{path.name}, line {reader.line_num}: not a readable CSV manifest ({exc}); "
                              f"each cell may hold at most {MAX_FIELD} characters") from None


def _xlsx_rows(path: Path) -> Iterator[dict[str, str]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise IntakeError(f"{path.name}: not a readable Excel workbook ({exc.__class__.__name__})") from None
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise IntakeError(f"{path.name}: the first sheet is empty")
        cols = _columns(["" if h is None else str(h) for h in header], path.name)
        for row in rows:
            vals = ["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
                    for v in row]
            if any(v.strip() for v in vals):
                yield {name: (vals[i].strip() if i < len(vals) else "") for name, i in cols.items()}
    finally:
        wb.close()


def _columns(header: list[str], name: str) -> dict[str, int]:
    norm = [h.strip().lower().replace(" ", "_") for h in header]
    missing = [c for c in REQUIRED if c not in norm]
    if missing:
        raise IntakeError(f"{name}: missing column(s) {', '.join(missing)}; the manifest needs a header row "
                          f"with {', '.join(REQUIRED)} (optional: {', '.join(OPTIONAL)})")
    return {c: norm.index(c) for c in REQUIRED + OPTIONAL if c in norm}


def _manifest_items(rows: Iterator[dict[str, str]]) -> Iterator[IntakeItem]:
    for pos, row in enumerate(rows):
        yield _row_item(pos, row)


def _row_item(pos: int, row: dict[str, str]) -> IntakeItem:
    sku, url = row.get("sku_id", ""), row.get("image_url", "")
    src = url[:1024] or f"row {pos + 2}"
    base = dict(position=pos, source=src, sku_id=sku[:128] or None)
    problems = []
    long = [k for k, v in row.items() if len(v) > MAX_FIELD]
    if long:
        return IntakeItem(**base, error=f"row {pos + 2}: {', '.join(long)} longer than {MAX_FIELD} characters")
    try:
        if not clean_sku(sku):
            problems.append("sku_id is empty")
    except ValueError as exc:
        problems.append(str(exc))
    if not url.lower().startswith(("http://", "https://")) or len(url) > 1024:
        problems.append(f"image_url {url[:100]!r} is not an http(s) URL of at most 1024 characters")
    # the row's overrides are checked by the one request type's rules (one field at a time, so every
    # bad field is named)
    mode, target, fmt, profile = (row.get(k) or None for k in OPTIONAL)
    for field, value, check in (("mode", mode, lambda v: EnhanceOptions.parse(mode=v)),
                                ("target_size_kb", target, lambda v: EnhanceOptions.parse(target_size_kb=v)),
                                ("output_format", fmt, lambda v: EnhanceOptions.parse(output_format=v)),
                                ("profile", profile, lambda v: EnhanceOptions.parse(profile=v))):
        if value:
            try:
                check(value)
            except ValueError as exc:
                problems.append(f"{field} {value!r}: {exc}")
    if problems:
        return IntakeItem(**base, error=f"row {pos + 2}: " + "; ".join(problems))
    return IntakeItem(**base, mode=mode and Mode.parse(mode).value, target_size_kb=target and int(float(target)),
                      output_format=fmt and normalize(fmt), profile=profile and profile.strip().lower())


# -- archives and folders ------------------------------------------------------------------

def _unsafe_member(name: str) -> str | None:
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if ".." in name.replace("\\", "/").split("/"):
        return "'..' in the path"
    return None


def _skip(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return name.endswith("/") or "__MACOSX" in parts or PurePosixPath(name).name.startswith(".")


def _zip_items(path: Path, limits: ZipLimits) -> Iterator[IntakeItem]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise IntakeError(f"{path.name}: not a readable ZIP archive ({exc})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            raise IntakeError(f"{path.name}: {len(infos)} entries, above the limit of {limits.max_entries}; "
                              "split the archive")
        total, pos = 0, 0
        for info in infos:
            name = info.filename
            err = _unsafe_member(name)
            if not err and _skip(name):  # an unsafe name is listed as refused, never dropped silently
                continue
            if err:
                err = f"refused archive entry {name!r}: {err}"
            elif info.file_size > limits.max_entry_bytes:
                err = f"{name}: {info.file_size / 2**20:.1f} MB uncompressed, above the " \
                      f"{limits.max_entry_bytes // 2**20} MB limit"
            elif info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
                err = f"{name}: compression ratio {info.file_size / info.compress_size:.0f}:1 is suspicious " \
                      f"(limit {limits.max_ratio:.0f}:1)"
            elif total + info.file_size > limits.max_total_bytes:
                err = f"{name}: the archive passed {limits.max_total_bytes // 2**30} GB uncompressed"
            elif info.flag_bits & 0x1:
                err = f"{name}: encrypted entries are not supported"
            if not err:
                total += info.file_size
            yield IntakeItem(position=pos, source=name[:1024], sku_id=None if err else
                             sku_from_filename(PurePosixPath(name).name), error=err)
            pos += 1


def read_zip_member(archive: str | Path | zipfile.ZipFile, name: str, *,
                    limits: ZipLimits = ZipLimits()) -> bytes:
    """One member's bytes, reading at most ``max_entry_bytes`` (declared sizes can lie).

    ``archive`` may be an open ZipFile (one per thread: ZipFile reads are not thread-safe), which
    saves re-reading the central directory for every member of a large archive.
    """
    if _unsafe_member(name):
        raise IntakeError(f"refused archive entry {name!r}")
    if isinstance(archive, zipfile.ZipFile):
        with archive.open(name) as fh:
            data = fh.read(limits.max_entry_bytes + 1)
    else:
        with zipfile.ZipFile(archive) as zf, zf.open(name) as fh:
            data = fh.read(limits.max_entry_bytes + 1)
    if len(data) > limits.max_entry_bytes:
        raise IntakeError(f"{name}: larger than the {limits.max_entry_bytes // 2**20} MB limit when unpacked")
    return data


def _folder_files(root: Path) -> Iterator[str]:
    for p in root.rglob("*"):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and not p.is_symlink() and not _skip(rel):
            yield rel


def _folder_items(root: Path) -> Iterator[IntakeItem]:
    for pos, rel in enumerate(sorted(_folder_files(root))):
        yield IntakeItem(position=pos, source=rel[:1024], sku_id=sku_from_filename(PurePosixPath(rel).name))


def read_folder_member(root: str | Path, rel: str, *, max_bytes: int) -> bytes:
    """A folder item's bytes; refuses paths that leave the folder."""
    base = Path(root).resolve()
    p = (base / rel).resolve()
    if not p.is_relative_to(base):
        raise IntakeError(f"refused {rel!r}: outside the batch folder")
    with open(p, "rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise IntakeError(f"{rel}: above the {max_bytes // 2**20} MB upload limit")
    return data


def manifest_bytes(items: list[dict[str, str]]) -> bytes:
    """A CSV manifest from row dicts (used by the dashboard and tests)."""
    buf = io.StringIO()
    cols = list(REQUIRED) + [c for c in OPTIONAL if any(c in r for r in items)]
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    w.writeheader()
    w.writerows(items)
    return buf.getvalue().encode()
