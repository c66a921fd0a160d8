"""Settings: one frozen object, built once from the environment, ``.env`` and ``st.secrets``.

Library code never reads ``os.environ``; the CLI and the dashboard build a
:class:`Settings` with :func:`load_settings` and pass what is needed along.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import quote_plus

from .errors import ConfigError

SECRET_FIELDS = {"database_url", "mysql_password", "aws_secret_access_key", "aws_access_key_id",
                 "gemini_api_key", "broker_url"}
BROKER_SCHEMES = ("amqp", "amqps", "pyamqp", "redis", "rediss", "sqs")


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Build with :func:`load_settings`."""

    database_url: str
    data_dir: Path
    storage_dir: Path
    s3_bucket: str | None = None
    aws_region: str = "us-east-1"
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    s3_endpoint_url: str | None = None
    cloudfront_domain: str | None = None
    gemini_api_key: str | None = None
    gemini_model: str = "gemini-2.5-flash"
    gemini_image_model: str = "gemini-2.5-flash-image"
    gemini_base_url: str | None = None
    ai_provider: str = "local"
    bedrock_model_id: str = "amazon.titan-image-generator-v2:0"
    bedrock_region: str | None = None
    bedrock_endpoint_url: str | None = None
    enhanced_images_count: int = 3
    max_upload_mb: int = 50
    max_batch_size: int = 5000
    max_megapixels: int = 60
    allow_private_urls: bool = False
    review_all: bool = False
    db_connect_timeout_s: int = 10
    db_timeout_s: int = 30
    s3_timeout_s: int = 20
    api_workers: int = 0  # enhancements at once in the API's CPU pool; 0 = one per core
    api_queue: int = 0  # uploads waiting for the pool before 429; 0 = 4 per worker
    max_batch_upload_mb: int = 1024  # a batch file (ZIP/CSV/XLSX) sent to the API
    mysql_password: str | None = None  # kept only so it can be masked in displays
    admin_emails: tuple[str, ...] = ()          # always admin (the first admin)
    default_role: str = "viewer"                # a signed-in user nobody gave a role
    role_claims: tuple[str, ...] = ("roles", "groups")   # ID-token claims read for a role
    role_map: tuple[tuple[str, str], ...] = ()  # claim value -> role (a role's own name always maps)
    # Workers (enhancer/worker.py): with a broker, batches run on Celery workers on any machine.
    broker_url: str | None = None
    broker_queue: str = "pixel-lab"
    sqs_endpoint_url: str | None = None
    task_time_limit_s: int = 600
    task_max_attempts: int = 3
    broker_visibility_timeout_s: int = 3600
    batch_window: int = 64

    @property
    def broker_kind(self) -> str | None:
        """``rabbitmq``, ``redis``, ``sqs``, or None (embedded: batches run on the local process pool)."""
        if not self.broker_url:
            return None
        scheme = self.broker_url.split(":", 1)[0]
        return {"redis": "redis", "rediss": "redis", "sqs": "sqs"}.get(scheme, "rabbitmq")

    @property
    def database_kind(self) -> str:
        return self.database_url.split(":", 1)[0].split("+", 1)[0]

    @property
    def storage_kind(self) -> str:
        return "s3" if self.s3_bucket else "local"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def cpu_workers(self) -> int:
        return self.api_workers or os.cpu_count() or 2

    @property
    def cpu_queue(self) -> int:
        return self.api_queue or 4 * self.cpu_workers

    @property
    def max_pixels(self) -> int:
        return self.max_megapixels * 1_000_000

    def masked(self) -> dict[str, str]:
        """Settings for display: secrets shown as ``set (****abcd)`` or ``not set``."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name.endswith("_url") and v:
                out[f.name] = mask_url(v)
            elif f.name in SECRET_FIELDS:
                out[f.name] = "not set" if not v else "set (****)"
            else:
                out[f.name] = "" if v is None else str(v)
        return out


# Query parameters whose value is a secret: pymysql takes ?password=..., drivers take ssl keys and tokens.
_SECRET_PARAM = re.compile(r"pass|pwd|secret|token|key|credential|auth|signature", re.IGNORECASE)
# scheme ":" then any slashes, then "user:password@" exactly as SQLAlchemy's URL parser reads it
# (the password runs to the first "@", so it may hold "/" or "?").
_CREDENTIALS = re.compile(r"^(?P<head>[A-Za-z][\w+.-]*:/*)(?P<user>[^:/@?]*):(?P<password>[^@]*)@")


def mask_url(url: str) -> str:
    """``url`` with its password and secret-like query parameters replaced by ``****``.

    Works whatever the shape: ``scheme://user:pw@host``, ``scheme:user:pw@host``
    (no ``//``, which SQLAlchemy cannot even parse), ``?password=...`` or
    ``?ssl_key=...``; a URL without secrets comes back unchanged.

    >>> mask_url("mysql+pymysql://app:s3cret@db/x?charset=utf8mb4&password=s3cret")
    'mysql+pymysql://app:****@db/x?charset=utf8mb4&password=****'
    """
    url = _CREDENTIALS.sub(lambda m: f"{m['head']}{m['user']}:****@", str(url), count=1)
    base, q, query = url.partition("?")
    if not q:
        return base
    parts = []
    for part in query.split("&"):
        name, eq, _value = part.partition("=")
        parts.append(f"{name}=****" if eq and _SECRET_PARAM.search(name) else part)
    return f"{base}?{'&'.join(parts)}"


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        val = int(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number between {lo} and {hi}, got {raw!r}") from None
    if not lo <= val <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {val}")
    return val


def _bool(env: Mapping[str, str], name: str) -> bool:
    return str(env.get(name, "")).strip().lower() in ("1", "true", "yes", "on")


def _opt(env: Mapping[str, str], name: str) -> str | None:
    v = env.get(name)
    v = str(v).strip() if v is not None else ""
    return v or None


def _database_url(env: Mapping[str, str], data_dir: Path) -> str:
    url = _opt(env, "DATABASE_URL")
    if url:
        if url.startswith("mysql://"):
            url = "mysql+pymysql://" + url[len("mysql://"):]
        if not url.startswith(("sqlite", "mysql", "mariadb")):
            raise ConfigError("DATABASE_URL must start with sqlite:// or mysql+pymysql://, "
                              f"got {url.split(':', 1)[0]!r}")
        if url.startswith(("mysql", "mariadb")) and "charset=" not in url:
            url += ("&" if "?" in url else "?") + "charset=utf8mb4"
        return url
    host = _opt(env, "MYSQL_HOST")
    if host:
        db = _opt(env, "MYSQL_DATABASE")
        if not db:
            raise ConfigError("MYSQL_DATABASE must be set when MYSQL_HOST is set")
        port = _int(env, "MYSQL_PORT", 3306, 1, 65535)
        user = quote_plus(_opt(env, "MYSQL_USER") or "root")
        pw = _opt(env, "MYSQL_PASSWORD")
        cred = f"{user}:{quote_plus(pw)}" if pw else user
        return f"mysql+pymysql://{cred}@{host}:{port}/{db}?charset=utf8mb4"
    return f"sqlite:///{data_dir / 'pixel_lab.db'}"


def _roles(env: Mapping[str, str]) -> tuple[tuple[str, ...], str, tuple[str, ...], tuple[tuple[str, str], ...]]:
    from .service.access import ROLES

    admins = tuple(sorted({e.strip().lower() for e in (_opt(env, "ADMIN_EMAILS") or "").split(",") if e.strip()}))
    default = (_opt(env, "DEFAULT_ROLE") or "viewer").lower()
    if default not in ROLES:
        raise ConfigError(f"DEFAULT_ROLE must be one of {', '.join(ROLES)}; got {default!r}")
    claims = tuple(c.strip() for c in (_opt(env, "ROLE_CLAIMS") or "roles,groups").split(",") if c.strip())
    pairs = []
    for item in (_opt(env, "ROLE_MAP") or "").split(","):
        if not item.strip():
            continue
        value, sep, role = item.rpartition("=")
        if not sep or not value.strip() or role.strip().lower() not in ROLES:
            raise ConfigError(f"ROLE_MAP entries are claim-value=role with role one of {', '.join(ROLES)}; "
                              f"got {item.strip()!r}")
        pairs.append((value.strip(), role.strip().lower()))
    return admins, default, claims, tuple(pairs)


def settings_from_mapping(env: Mapping[str, str]) -> Settings:
    """Build and validate settings from one mapping of variable names to values.

    Raises
    ------
    ConfigError
        Naming the variable whose value is wrong.
    """
    data_dir = Path(_opt(env, "PIXEL_LAB_DATA_DIR") or "data").expanduser()
    storage_dir = Path(_opt(env, "STORAGE_DIR") or data_dir / "storage").expanduser()
    provider = (_opt(env, "AI_PROVIDER") or "local").lower()
    if provider not in ("local", "gemini", "bedrock"):
        raise ConfigError(f"AI_PROVIDER must be one of local, gemini, bedrock; got {provider!r}")
    cdn = _opt(env, "CLOUDFRONT_DOMAIN")
    if cdn:
        cdn = cdn.removeprefix("https://").removeprefix("http://").rstrip("/")
    endpoint = _opt(env, "S3_ENDPOINT_URL")
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise ConfigError(f"S3_ENDPOINT_URL must start with http:// or https://, got {endpoint!r}")
    admins, default_role, role_claims, role_map = _roles(env)
    return Settings(
        admin_emails=admins, default_role=default_role, role_claims=role_claims, role_map=role_map,
        database_url=_database_url(env, data_dir), data_dir=data_dir, storage_dir=storage_dir,
        s3_bucket=_opt(env, "S3_BUCKET"), aws_region=_opt(env, "AWS_REGION") or "us-east-1",
        aws_access_key_id=_opt(env, "AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=_opt(env, "AWS_SECRET_ACCESS_KEY"),
        s3_endpoint_url=endpoint, cloudfront_domain=cdn,
        gemini_api_key=_opt(env, "GEMINI_API_KEY"),
        gemini_model=_opt(env, "GEMINI_MODEL") or Settings.gemini_model,
        gemini_image_model=_opt(env, "GEMINI_IMAGE_MODEL") or Settings.gemini_image_model,
        gemini_base_url=_opt(env, "GEMINI_BASE_URL"), ai_provider=provider,
        bedrock_model_id=_opt(env, "BEDROCK_MODEL_ID") or Settings.bedrock_model_id,
        bedrock_region=_opt(env, "BEDROCK_REGION"),
        bedrock_endpoint_url=_opt(env, "BEDROCK_ENDPOINT_URL"),
        enhanced_images_count=_int(env, "ENHANCED_IMAGES_COUNT", 3, 1, 10),
        max_upload_mb=_int(env, "MAX_UPLOAD_MB", 50, 1, 500),
        max_batch_size=_int(env, "MAX_BATCH_SIZE", 5000, 1, 1_000_000),
        max_megapixels=_int(env, "MAX_MEGAPIXELS", 60, 1, 500),
        allow_private_urls=_bool(env, "PIXEL_LAB_ALLOW_PRIVATE_URLS"),
        review_all=_bool(env, "REVIEW_ALL"),
        db_connect_timeout_s=_int(env, "DB_CONNECT_TIMEOUT_S", 10, 1, 300),
        db_timeout_s=_int(env, "DB_TIMEOUT_S", 30, 1, 3600),
        s3_timeout_s=_int(env, "S3_TIMEOUT_S", 20, 1, 600),
        api_workers=_int(env, "API_WORKERS", 0, 0, 256),
        api_queue=_int(env, "API_QUEUE", 0, 0, 10_000),
        max_batch_upload_mb=_int(env, "MAX_BATCH_UPLOAD_MB", 1024, 1, 100_000),
        mysql_password=_opt(env, "MYSQL_PASSWORD"),
        **_broker(env),
    )


def load_settings(*, environ: Mapping[str, str] | None = None, dotenv_path: str | Path | None = ".env",
                  secrets: Mapping[str, object] | None = None) -> Settings:
    """Settings from ``.env`` < ``st.secrets`` < the environment (later wins).

    Only the CLI and the dashboard call this; pass ``environ`` in tests.
    """
    merged: dict[str, str] = {}
    if dotenv_path and Path(dotenv_path).is_file():
        from dotenv import dotenv_values
        merged.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    if secrets:
        merged.update({k: str(v) for k, v in secrets.items() if not isinstance(v, Mapping)})
    merged.update(os.environ if environ is None else environ)
    return settings_from_mapping(merged)


def _broker(env: Mapping[str, str]) -> dict:
    url = _opt(env, "BROKER_URL")
    if url and url.split(":", 1)[0] not in BROKER_SCHEMES:
        raise ConfigError("BROKER_URL must start with amqp:// (RabbitMQ), redis:// or sqs://, "
                          f"got {url.split(':', 1)[0]!r}")
    queue = _opt(env, "BROKER_QUEUE") or Settings.broker_queue
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,80}", queue):
        raise ConfigError(f"BROKER_QUEUE must be 1-80 letters, digits, '-' or '_', got {queue!r}")
    sqs_endpoint = _opt(env, "SQS_ENDPOINT_URL")
    if sqs_endpoint and not sqs_endpoint.startswith(("http://", "https://")):
        raise ConfigError(f"SQS_ENDPOINT_URL must start with http:// or https://, got {sqs_endpoint!r}")
    limit = _int(env, "TASK_TIME_LIMIT", Settings.task_time_limit_s, 10, 86_400)
    # A message whose task outlives the visibility timeout is handed to a second worker (Redis, SQS):
    # the timeout must cover the longest task.
    visibility = _int(env, "BROKER_VISIBILITY_TIMEOUT", max(Settings.broker_visibility_timeout_s, 2 * limit),
                      30, 7 * 86_400)
    if visibility <= limit:
        raise ConfigError(f"BROKER_VISIBILITY_TIMEOUT ({visibility} s) must be longer than TASK_TIME_LIMIT "
                          f"({limit} s), or a running task's message is handed to another worker")
    if (url or "").startswith("sqs") and visibility > 43_200:
        raise ConfigError(f"BROKER_VISIBILITY_TIMEOUT is at most 43200 s (12 h) on SQS, got {visibility}")
    return dict(broker_url=url, broker_queue=queue, sqs_endpoint_url=sqs_endpoint, task_time_limit_s=limit,
                task_max_attempts=_int(env, "TASK_MAX_ATTEMPTS", Settings.task_max_attempts, 1, 20),
                broker_visibility_timeout_s=visibility,
                batch_window=_int(env, "BATCH_WINDOW", Settings.batch_window, 1, 10_000))


_ENV_NAMES = {
    "database_url": "DATABASE_URL", "data_dir": "PIXEL_LAB_DATA_DIR", "storage_dir": "STORAGE_DIR",
    "s3_bucket": "S3_BUCKET", "aws_region": "AWS_REGION", "aws_access_key_id": "AWS_ACCESS_KEY_ID",
    "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY", "s3_endpoint_url": "S3_ENDPOINT_URL",
    "cloudfront_domain": "CLOUDFRONT_DOMAIN", "gemini_api_key": "GEMINI_API_KEY",
    "gemini_model": "GEMINI_MODEL",
    "gemini_image_model": "GEMINI_IMAGE_MODEL", "gemini_base_url": "GEMINI_BASE_URL",
    "ai_provider": "AI_PROVIDER", "bedrock_model_id": "BEDROCK_MODEL_ID", "bedrock_region": "BEDROCK_REGION",
    "bedrock_endpoint_url": "BEDROCK_ENDPOINT_URL", "enhanced_images_count": "ENHANCED_IMAGES_COUNT",
    "max_upload_mb": "MAX_UPLOAD_MB", "max_batch_size": "MAX_BATCH_SIZE", "max_megapixels": "MAX_MEGAPIXELS",
    "allow_private_urls": "PIXEL_LAB_ALLOW_PRIVATE_URLS", "review_all": "REVIEW_ALL",
    "broker_url": "BROKER_URL", "broker_queue": "BROKER_QUEUE", "sqs_endpoint_url": "SQS_ENDPOINT_URL",
    "task_time_limit_s": "TASK_TIME_LIMIT", "task_max_attempts": "TASK_MAX_ATTEMPTS",
    "broker_visibility_timeout_s": "BROKER_VISIBILITY_TIMEOUT", "batch_window": "BATCH_WINDOW",
}


def settings_env(settings: Settings) -> dict[str, str]:
    """The variables that rebuild ``settings`` in another process (``settings_from_mapping`` reads them back).

    Unset values are given as empty strings, so a variable of the parent's own
    environment cannot override what these settings say.
    """
    out = {}
    for name, var in _ENV_NAMES.items():
        v = getattr(settings, name)
        out[var] = ("1" if v else "0") if isinstance(v, bool) else ("" if v is None else str(v))
    return out
