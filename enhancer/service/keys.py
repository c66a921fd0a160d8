"""Object keys: unique per image and per result, so no two writers ever share one.

A result's key carries its history row's id, which is new for every attempt:
a writer that loses a race, or whose commit fails, removes only its own
objects, never the winner's.
"""
from __future__ import annotations

from ..storage.keys import safe_name, stem


def original_key(image_id: str, filename: str) -> str:
    return f"uploads/original/{image_id}_{safe_name(filename)}"


def enhanced_key(history_id: str, filename: str, ext: str) -> str:
    return f"uploads/enhanced/{history_id}_{stem(filename)}.{ext}"


def thumbnail_key(history_id: str) -> str:
    return f"uploads/thumbs/{history_id}.jpg"


#: Where a batch's source photos are staged for workers (one object per item); see enhancer.batch.stage.
STAGED_ROOT = "batch-sources/"


def staged_prefix(batch_id: str) -> str:
    return f"{STAGED_ROOT}{batch_id}/"
