"""What an upload or re-enhancement returns: :class:`UploadResult` (its ``to_dict`` is the CLI's and API's JSON)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from db.models import EnhancementHistory, ProductImage

from ..formats import EXTENSIONS, MIME_TYPES
from ..storage.keys import stem

KB = 1024


@dataclass(frozen=True)
class UploadResult:
    """One upload's or re-enhancement's outcome (fields are added over time, never renamed)."""

    success: bool
    image_id: str | None
    database_id: str | None
    sku_id: str | None
    filename: str
    original_url: str | None = None
    enhanced_url: str | None = None
    original_key: str | None = None
    enhanced_key: str | None = None
    original_size_kb: float | None = None
    enhanced_size_kb: float | None = None
    size_reduction_percent: float | None = None
    quality_before: float | None = None
    quality_after: float | None = None
    quality_improvement: float | None = None
    blur_before: float | None = None
    blur_after: float | None = None
    processing_time_ms: float | None = None
    enhancement_mode: str | None = None
    enhancement_sequence: int | None = None
    width: int | None = None
    height: int | None = None
    original_width: int | None = None
    original_height: int | None = None
    format: str | None = None
    encode_quality: int | None = None
    steps: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    compliance: dict | None = None
    target_met: bool | None = None
    error: str | None = None
    reused: bool = False
    provider: str = "local"
    fell_back: bool = False
    variants: list[dict] = field(default_factory=list)
    product_id: str | None = None
    position: int | None = None
    review_status: str | None = None
    notes: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    copied_from: str | None = None  # an attempt made under another SKU, copied for this one
    original_format: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def download_name(self) -> str:
        return f"{stem(self.filename)}_enhanced.{EXTENSIONS.get(self.format or '', 'jpg')}"

    @property
    def mime_type(self) -> str:
        return MIME_TYPES.get(self.format or "", "application/octet-stream")


def kb(n: int | None) -> float | None:
    return None if n is None else round(n / KB, 2)


def reduction(before: int | None, after: int | None) -> float | None:
    return round((1 - after / before) * 100, 2) if before and after is not None else None


def from_rows(img: ProductImage, rows: list[EnhancementHistory], *, reused: bool) -> UploadResult:
    """The result of one attempt, from its recorded rows."""
    h = rows[0]
    qm, sm = h.quality_metadata or {}, h.size_metadata or {}
    before = qm.get("before") or {}
    pm = h.provider_metadata or {}
    return UploadResult(
        success=True, image_id=img.id, database_id=h.id, sku_id=img.sku_id, filename=img.original_filename,
        original_url=img.image_url, enhanced_url=h.enhanced_https_url, original_key=img.original_key,
        enhanced_key=h.enhanced_key, original_size_kb=kb(h.original_size_bytes),
        enhanced_size_kb=kb(h.enhanced_size_bytes), size_reduction_percent=sm.get("reduction_percent"),
        quality_before=h.original_quality_score, quality_after=h.enhanced_quality_score,
        quality_improvement=qm.get("quality_improvement"), blur_before=qm.get("blur_before"),
        blur_after=qm.get("blur_after"), processing_time_ms=h.processing_time_ms,
        enhancement_mode=h.enhancement_mode, enhancement_sequence=h.enhancement_sequence,
        width=h.enhanced_width, height=h.enhanced_height, original_width=before.get("width"),
        original_height=before.get("height"), format=h.enhanced_format, original_format=before.get("format"),
        encode_quality=qm.get("encode_quality"), steps=list(qm.get("steps") or []),
        warnings=list(qm.get("warnings_after") or []),
        compliance=qm.get("compliance"), target_met=qm.get("target_met"), provider=h.provider, reused=reused,
        fell_back=bool(pm.get("fell_back")), product_id=img.product_id, position=img.position,
        copied_from=pm.get("copied_from"), review_status=h.review_status.value, notes=list(qm.get("notes") or []), fixed=list(qm.get("fixed") or []),
        variants=[{"database_id": x.id, "enhancement_sequence": x.enhancement_sequence,
                   "enhanced_key": x.enhanced_key, "enhanced_url": x.enhanced_https_url, "provider": x.provider,
                   "enhanced_size_kb": kb(x.enhanced_size_bytes), "quality_after": x.enhanced_quality_score,
                   "review_status": x.review_status.value} for x in rows[1:]])


def failure(img: ProductImage, message: str, elapsed_ms: float) -> UploadResult:
    return UploadResult(success=False, image_id=img.id, database_id=None, sku_id=img.sku_id,
                        filename=img.original_filename, original_key=img.original_key, original_url=img.image_url,
                        original_size_kb=kb(img.original_size_bytes), enhancement_mode=img.enhancement_mode,
                        error=message, processing_time_ms=elapsed_ms, product_id=img.product_id,
                        position=img.position)
