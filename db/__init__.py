"""Data layer: models, engine/session helpers, migrations and queries.

Every query function takes the session first; the caller owns the transaction.
"""
from .models import Base, EnhancementHistory, ImageStatus, Product, ProductImage, ProductStatus, ReviewStatus
from . import batch_models  # noqa: F401  (registers batches, batch_items on Base)
from . import audit_models  # noqa: F401  (registers audit_log, users on Base)
from .session import make_engine, ping, session_factory, upgrade

__all__ = ["Base", "Product", "ProductStatus", "ProductImage", "EnhancementHistory", "ImageStatus", "ReviewStatus",
           "make_engine", "ping", "session_factory", "upgrade"]
