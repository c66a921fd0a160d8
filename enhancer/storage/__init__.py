"""Storage backends behind one small contract; pick one from settings."""
from __future__ import annotations

from .base import Storage
from .local import LocalStorage


def __getattr__(name: str):
    # boto3 costs ~0.15 s to import: only S3 configurations (and batch worker processes on S3) pay it
    if name == "S3Storage":
        from .s3 import S3Storage
        return S3Storage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def storage_from_settings(settings) -> Storage:
    """S3 when ``S3_BUCKET`` is set, else the local folder ``STORAGE_DIR``."""
    if settings.s3_bucket:
        from .s3 import S3Storage

        return S3Storage(settings.s3_bucket, region=settings.aws_region,
                         endpoint_url=settings.s3_endpoint_url,
                         access_key_id=settings.aws_access_key_id,
                         secret_access_key=settings.aws_secret_access_key,
                         cloudfront_domain=settings.cloudfront_domain,
                         read_timeout_s=settings.s3_timeout_s)
    return LocalStorage(settings.storage_dir)


__all__ = ["Storage", "LocalStorage", "S3Storage", "storage_from_settings"]
