"""The provider contract: settings, result type, the Protocol and the edit variants.

Every provider (local, Gemini, Bedrock) takes the same :class:`AIConfig`,
returns the same :class:`ProviderResult` and raises only
:class:`~enhancer.errors.ProviderError` for remote failures, so the service can
swap them by name.
"""
from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Protocol, runtime_checkable

from PIL import Image, UnidentifiedImageError

from ..errors import ConfigError, InvalidImageError
from ..types import MIME_TYPES


@dataclass(frozen=True)
class AIConfig:
    """Settings for the AI providers, built once by the caller (never from ``os.environ`` here).

    Parameters
    ----------
    gemini_api_key : str, optional
        Google AI Studio key (``GEMINI_API_KEY``). Without it the Gemini provider is unavailable.
    gemini_model : str
        Model used for analysis (JSON findings).
    gemini_image_model : str
        Image-output model used for edits.
    gemini_base_url : str, optional
        Override of the API root; tests point it at a loopback stub.
    bedrock_model_id : str
        ``amazon.titan-image-generator-v2:0`` or ``amazon.nova-canvas-v1:0``.
    bedrock_region : str
    bedrock_endpoint_url : str, optional
        Override of the Bedrock endpoint (VPC endpoint, or a stub in tests).
    aws_access_key_id, aws_secret_access_key : str, optional
        Explicit credentials; when absent boto3's default chain (env, profile, role) is used.
    max_retries : int
        Retries after the first attempt for transient failures (429, 5xx, timeouts).
    timeout_s : float
        Per-request timeout.
    retry_base_delay_s : float
        First back-off delay of the Gemini client (doubles per retry). Bedrock uses
        botocore's own standard-mode back-off.
    """

    gemini_api_key: str | None = field(default=None, repr=False)
    gemini_model: str = "gemini-2.5-flash"
    gemini_image_model: str = "gemini-2.5-flash-image"
    gemini_base_url: str | None = None
    bedrock_model_id: str = "amazon.titan-image-generator-v2:0"
    bedrock_region: str = "us-east-1"
    bedrock_endpoint_url: str | None = None
    aws_access_key_id: str | None = field(default=None, repr=False)
    aws_secret_access_key: str | None = field(default=None, repr=False)
    max_retries: int = 3
    timeout_s: float = 60.0
    retry_base_delay_s: float = 0.5

    def __post_init__(self) -> None:
        if int(self.max_retries) < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        if not float(self.timeout_s) > 0:
            raise ValueError(f"timeout_s must be > 0, got {self.timeout_s}")
        if float(self.retry_base_delay_s) < 0:
            raise ValueError(f"retry_base_delay_s must be >= 0, got {self.retry_base_delay_s}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, str | None]) -> "AIConfig":
        """Build from environment-style names (the caller passes ``os.environ``, ``.env`` or secrets).

        Names are the field names upper-cased (``GEMINI_API_KEY``, ``BEDROCK_MODEL_ID``,
        ``AWS_ACCESS_KEY_ID``, ``MAX_RETRIES`` ...), optionally prefixed ``AI_``
        (``AI_MAX_RETRIES``); ``AWS_REGION`` is accepted for ``bedrock_region``. Empty
        values count as unset.

        Raises
        ------
        ConfigError
            Naming the variable whose value is not valid.
        """
        kwargs: dict = {}
        for f in fields(cls):
            names = [f.name.upper(), "AI_" + f.name.upper()]
            if f.name == "bedrock_region":
                names.append("AWS_REGION")
            name = next((n for n in names if values.get(n) not in (None, "")), None)
            if name is None:
                continue
            raw = str(values[name]).strip()
            try:
                kwargs[f.name] = (int(raw) if f.name == "max_retries"
                                  else float(raw) if f.name in ("timeout_s", "retry_base_delay_s")
                                  else raw)
                cls(**{f.name: kwargs[f.name]})  # validate this value alone, to name it
            except ValueError as exc:
                raise ConfigError(f"{name}={raw!r} is not valid: {exc}") from None
        return cls(**kwargs)


@dataclass(frozen=True)
class ProviderResult:
    """What a provider call produced, with enough provenance to store and audit it.

    Attributes
    ----------
    data : bytes or None
        The edited image (``None`` for :meth:`Provider.analyze`).
    provider : str
        ``"local"``, ``"gemini"`` or ``"bedrock"``.
    model_version : str or None
        The model that answered, as the API reported it.
    response_id : str or None
        The API's id for the call (Gemini ``responseId``, AWS request id).
    usage : dict
        Token counts (``input_tokens``, ``output_tokens``, ``total_tokens``) or ``images``.
    findings : dict
        Analysis: ``problems`` (list of str), ``suggested_mode``, ``product_category``, ``alt_text``.
    prompt : str
        The instruction sent (or, for the local provider, the mode run).
    mime_type : str or None
        Media type of ``data``.
    """

    data: bytes | None
    provider: str
    model_version: str | None = None
    response_id: str | None = None
    usage: dict = field(default_factory=dict)
    findings: dict = field(default_factory=dict)
    prompt: str = ""
    mime_type: str | None = None


@dataclass(frozen=True)
class Variant:
    """One edit style: a short label for the UI and the instruction sent to a model."""

    name: str
    prompt: str


_KEEP = ("Keep the product itself exactly as it is: same shape, proportions, colours, "
         "text, logos and details. Do not add, remove or restyle anything on the product. ")

#: Edit variants; ``variant=i`` in :meth:`Provider.edit` picks ``VARIANTS[i]``.
VARIANTS: tuple[Variant, ...] = (
    Variant("white_background",
            _KEEP + "Replace the background with a clean, seamless pure white (#FFFFFF) studio "
            "background with a soft natural shadow under the product, centred, as for a "
            "marketplace main image."),
    Variant("lighting",
            _KEEP + "Correct the lighting: even, bright, neutral studio light, balanced exposure, "
            "no blown highlights or crushed shadows, neutral white balance."),
    Variant("sharpen_colour",
            _KEEP + "Make the photo crisp and true to life: sharpen fine detail, remove noise and "
            "compression artefacts, and correct the colours to be accurate and vivid but natural."),
    Variant("lifestyle_neutral",
            _KEEP + "Place the product in a minimal, neutral lifestyle setting (light wooden or "
            "stone surface, soft daylight, blurred plain background) that suits the product."),
)

#: Questions asked by :meth:`Provider.analyze`; the answer must match :data:`FINDINGS_KEYS`.
ANALYSIS_PROMPT = (
    "You are a marketplace photo editor. Look at this product photo and report, as JSON: "
    "problems: a list of short phrases naming what is wrong with it as a listing photo "
    "(e.g. cluttered background, underexposed, blurry, colour cast, product off-centre); "
    "suggested_mode: the single best fix, one of {modes}; "
    "product_category: a short category such as 'shoes' or 'kitchenware'; "
    "alt_text: one plain sentence describing the product for screen readers."
)
FINDINGS_KEYS = ("problems", "suggested_mode", "product_category", "alt_text")


def pick_variant(variant: int, prompt: str | None) -> str:
    """The instruction for an edit: the caller's ``prompt`` if given, else ``VARIANTS[variant]``.

    Raises
    ------
    ValueError
        If ``variant`` is out of range.
    """
    if not 0 <= int(variant) < len(VARIANTS):
        raise ValueError(f"variant must be between 0 and {len(VARIANTS) - 1}, got {variant}")
    return prompt.strip() if prompt and prompt.strip() else VARIANTS[int(variant)].prompt


def sniff_mime(data: bytes) -> str:
    """The media type of an image from its bytes (APIs want it declared).

    Raises
    ------
    InvalidImageError
        If the bytes are not an image PIL can identify.
    """
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = (img.format or "").upper()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidImageError("This file is not an image the AI provider can read. "
                                "Upload a JPEG, PNG or WEBP photo.") from exc
    return MIME_TYPES.get(fmt, "application/octet-stream")


def prepare_upload(data: bytes, *, allowed: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp"),
                   max_bytes: int = 15 * 1024 * 1024, max_side: int = 3072) -> tuple[bytes, str]:
    """The photo in a format and size an API accepts, and its media type.

    Bytes already in an ``allowed`` format and under ``max_bytes`` go out untouched;
    anything else (TIFF, BMP, GIF, or too big for an inline request) is re-encoded
    as PNG, or JPEG when still too big, at most ``max_side`` pixels on its longest side.

    Raises
    ------
    InvalidImageError
        If the bytes are not an image.
    """
    mime = sniff_mime(data)
    if mime in allowed and len(data) <= max_bytes:
        return data, mime
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        img = img.convert("RGBA" if img.mode in ("RGBA", "LA", "P") else "RGB")
    img.thumbnail((max_side, max_side), Image.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    if buf.tell() <= max_bytes or "image/jpeg" not in allowed:
        return buf.getvalue(), "image/png"
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=92)
    return buf.getvalue(), "image/jpeg"


@runtime_checkable
class Provider(Protocol):
    """What the service needs from an AI provider."""

    name: str
    #: Labels of the edit variants, index = ``variant``.
    variants: tuple[str, ...]

    def available(self) -> tuple[bool, str]:
        """``(True, "")`` if configured, else ``(False, reason)`` naming what to set."""
        ...

    def check(self) -> None:
        """Make one cheap authenticated call; raise ProviderError with a user-facing message."""
        ...

    def analyze(self, data: bytes) -> ProviderResult:
        """Findings about a photo (``data`` of the result is None)."""
        ...

    def edit(self, data: bytes, *, prompt: str | None = None, variant: int = 0) -> ProviderResult:
        """An edited image; ``prompt`` overrides the variant's instruction."""
        ...
