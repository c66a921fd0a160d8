"""Plain-dict views of rows, shared by the CLI JSON and the dashboard tables."""
from __future__ import annotations

from db.models import AUTO_REVIEWER, EnhancementHistory, Product, ProductImage


def _kb(n: int | None) -> float | None:
    return None if n is None else round(n / 1024, 2)


def _ts(t) -> str | None:
    return t.isoformat(sep=" ", timespec="seconds") if t else None


def review_label(status: str, reviewed_by: str | None) -> str:
    """One vocabulary, in words: what a review status means for a person."""
    if status == "approved":
        return "approved automatically (nothing to choose)" if reviewed_by == AUTO_REVIEWER \
            else f"approved by {reviewed_by}" if reviewed_by else "approved"
    return {"pending_review": "waiting for review", "rejected": f"rejected by {reviewed_by}" if reviewed_by
            else "rejected", "none": "no result yet"}.get(status, status)


def image_summary(img: ProductImage) -> dict:
    return {
        "id": img.id, "sku_id": img.sku_id, "product_id": img.product_id, "position": img.position,
        "is_main": bool(img.is_main), "filename": img.original_filename,
        "image_url": img.image_url, "enhanced_image_url": img.enhanced_image_url,
        "original_size_kb": _kb(img.original_size_bytes), "enhanced_size_kb": _kb(img.enhanced_size_bytes),
        "original_width": img.original_width, "original_height": img.original_height,
        "enhanced_width": img.enhanced_width, "enhanced_height": img.enhanced_height,
        "status": img.status.value, "review_status": img.review_status.value,
        "reviewed_by": img.reviewed_by, "reviewed_at": _ts(img.reviewed_at),
        "review": review_label(img.review_status.value, img.reviewed_by),
        "enhancement_mode": img.enhancement_mode, "quality_before": img.quality_before,
        "quality_after": img.quality_after, "quality_improvement": img.quality_improvement,
        "size_reduction_percent": img.size_reduction_percent, "processing_time_ms": img.processing_time_ms,
        "error_message": img.error_message, "created_at": img.created_at.isoformat(sep=" ", timespec="seconds"),
        "processed_at": img.processed_at.isoformat(sep=" ", timespec="seconds") if img.processed_at else None,
    }


def history_entry(h: EnhancementHistory) -> dict:
    return {
        "id": h.id, "enhancement_sequence": h.enhancement_sequence, "enhancement_mode": h.enhancement_mode,
        "provider": h.provider, "model_version": h.model_version, "response_id": h.response_id,
        "original_s3_url": h.original_s3_url, "original_https_url": h.original_https_url,
        "enhanced_s3_url": h.enhanced_s3_url, "enhanced_https_url": h.enhanced_https_url,
        "original_size_bytes": h.original_size_bytes, "enhanced_size_bytes": h.enhanced_size_bytes,
        "original_quality_score": h.original_quality_score, "enhanced_quality_score": h.enhanced_quality_score,
        "quality_metadata": _quality(h.quality_metadata), "size_metadata": dict(h.size_metadata or {}),
        "provider_metadata": dict(h.provider_metadata or {}),
        "processing_time_ms": h.processing_time_ms, "processing_status": h.processing_status,
        "review_status": h.review_status.value, "reviewed_by": h.reviewed_by, "reviewed_at": _ts(h.reviewed_at),
        "review": review_label(h.review_status.value, h.reviewed_by),
        "enhanced_width": h.enhanced_width, "enhanced_height": h.enhanced_height,
        "enhanced_format": h.enhanced_format, "attempt_id": h.attempt_id,
        "created_at": h.created_at.isoformat(sep=" ", timespec="seconds"),
    }


def _quality(qm: dict | None) -> dict:
    qm = dict(qm or {})
    # the names other systems used for the same figures
    qm.setdefault("original_blur", qm.get("blur_before"))
    qm.setdefault("enhanced_blur", qm.get("blur_after"))
    return qm


def image_history(img: ProductImage, rows: list[EnhancementHistory]) -> dict:
    """An image and every enhancement of it, in sequence order (the CLI's ``history`` and the API's)."""
    return {"image_id": img.id, "sku_id": img.sku_id, "product_id": img.product_id,
            "filename": img.original_filename, "original_https_url": img.image_url, "status": img.status.value,
            "review_status": img.review_status.value, "reviewed_by": img.reviewed_by,
            "enhancements": [history_entry(h) for h in rows], "ai_usage": usage_totals(rows)}


def product_summary(p: Product, images: list[ProductImage]) -> dict:
    return {"id": p.id, "sku_id": p.sku_id, "status": p.status.value, "name": p.name, "category": p.category,
            "mrp": p.mrp, "price": p.price, "discount": p.discount, "gst": p.gst,
            "created_at": _ts(p.created_at), "updated_at": _ts(p.updated_at),
            "main_image_id": next((i.id for i in images if i.is_main), None),
            "images": [image_summary(i) for i in images]}


def usage_totals(rows: list[EnhancementHistory]) -> dict:
    """AI usage added up over history rows (operators pay per token / image), by provider.

    Counts both the edit calls and the analysis call recorded with each row.
    """
    totals: dict[str, dict[str, float]] = {}
    for h in rows:
        meta = h.provider_metadata or {}
        provider = meta.get("requested_provider") or h.provider
        for usage in (meta.get("usage") or {}, meta.get("analysis_usage") or {}):
            for k, v in usage.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    bucket = totals.setdefault(provider, {})
                    bucket[k] = bucket.get(k, 0) + v
        if provider != "local" or meta.get("fell_back"):
            bucket = totals.setdefault(provider, {})
            bucket["calls"] = bucket.get("calls", 0) + 1
            bucket["fallbacks"] = bucket.get("fallbacks", 0) + int(bool(meta.get("fell_back")))
    return totals
