"""Pixel Lab's image library: assess, enhance, store, record.

Public API only; everything not in ``__all__`` is private. The service entry
points (upload, re-enhance, review, delete over :class:`Backends`) are here and
in :mod:`enhancer.service`.
"""
from .compliance import check_compliance
from .errors import (ConfigError, ConflictError, DatabaseError, EnhancerError, InvalidImageError, ModelError,
                     NotFoundError,
                     ProviderError, StorageError)
from .formats import ACCEPTED_TEXT, INPUT_EXTENSIONS, INPUT_FORMATS
from .imageio import make_thumbnail
from .options import MAX_TARGET_KB, MIN_TARGET_KB, EnhanceOptions
from .pipeline import enhance
from .profiles import PROFILES, Profile, get_profile
from .providers import AIConfig, ProviderResult, get_provider
from .quality import assess
from .types import (EXTENSIONS, MIME_TYPES, OUTPUT_FORMATS, PROFILED_MODES, ComplianceReport, EnhancementResult,
                    Mode, QualityReport, RuleResult)
from .service import (Backends, UploadResult, decide, delete_batch, delete_image, delete_product, reenhance,
                      sku_from_filename, upload)

__all__ = [
    "assess", "enhance", "make_thumbnail", "check_compliance",
    "Mode", "QualityReport", "EnhancementResult", "ComplianceReport", "RuleResult",
    "Profile", "PROFILES", "get_profile", "OUTPUT_FORMATS", "MIME_TYPES", "EXTENSIONS",
    "INPUT_FORMATS", "INPUT_EXTENSIONS", "ACCEPTED_TEXT", "PROFILED_MODES",
    "EnhanceOptions", "MIN_TARGET_KB", "MAX_TARGET_KB",
    "Backends", "UploadResult", "upload", "reenhance", "decide", "delete_image", "delete_product", "delete_batch",
    "sku_from_filename",
    "EnhancerError", "InvalidImageError", "ConfigError", "StorageError", "NotFoundError", "DatabaseError",
    "ConflictError", "ProviderError", "ModelError", "AIConfig", "ProviderResult", "get_provider",
]
