"""Bulk processing: read many photos (files, a ZIP, a folder, a CSV/XLSX of URLs), run them through the
same service (:func:`enhancer.service.upload`) as single uploads on a bounded pool, record every item.

Public entry points: :func:`create_batches`, :class:`BatchRunner`, :func:`export_batch`.
"""
from .errors import BatchError, FetchError, IntakeError, UnknownBatchError
from .export import EXPORT_FORMATS, export_batch
from .intake import IntakeItem, ZipLimits, detect_kind, iter_items
from .control import RunSummary, request, summary
from .runner import BatchRunner, create_batches

__all__ = ["BatchError", "UnknownBatchError", "FetchError", "IntakeError", "IntakeItem", "ZipLimits", "detect_kind",
           "iter_items", "BatchRunner", "RunSummary", "create_batches", "request", "summary", "export_batch", "EXPORT_FORMATS"]
