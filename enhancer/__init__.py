"""Pixel Lab's image library: assess, enhance, store, record.

Public API only; everything not in ``__all__`` is private.
"""
from .compliance import check_compliance
from .errors import (ConfigError, EnhancerError, InvalidImageError, ModelError, NotFoundError,
                     ProviderError, StorageError)
from .imageio import make_thumbnail
from .pipeline import enhance
from .profiles import PROFILES, Profile, get_profile
from .providers import AIConfig, ProviderResult, get_provider
from .quality import assess
from .types import (EXTENSIONS, MIME_TYPES, OUTPUT_FORMATS, ComplianceReport, EnhancementResult,
                    Mode, QualityReport, RuleResult)

__all__ = [
    "assess", "enhance", "make_thumbnail", "check_compliance",
    "Mode", "QualityReport", "EnhancementResult", "ComplianceReport", "RuleResult",
    "Profile", "PROFILES", "get_profile", "OUTPUT_FORMATS", "MIME_TYPES", "EXTENSIONS",
    "EnhancerError", "InvalidImageError", "ConfigError", "StorageError", "NotFoundError",
    "ProviderError", "ModelError", "AIConfig", "ProviderResult", "get_provider",
]
