"""One request type: what to make of a photo, parsed and validated once at the edge.

The dashboard, the CLI, bulk intake, the API and the workers all build an
:class:`EnhanceOptions` with :meth:`EnhanceOptions.parse` and pass it on;
nothing downstream takes loose flags. :meth:`EnhanceOptions.key` is the one
canonical key for "the same work": same bytes + same key → the earlier result
is reused, everywhere.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from .formats import normalize_output
from .profiles import get_profile
from .types import DEFAULT_PROFILE, PROFILED_MODES, Mode

#: Byte budgets a request may ask for (KB = 1024 bytes).
MIN_TARGET_KB, MAX_TARGET_KB = 50, 2000
MAX_VARIANTS = 10
AI_PROVIDERS = ("local", "gemini", "bedrock")
MAX_SKU = 128
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class EnhanceOptions:
    """Validated options of one request. Build with :meth:`parse`.

    ``ai`` is None for the local pipeline; ``profile`` is set for the modes
    that need one (``generic`` by default), so two spellings of the same
    request share one :meth:`key`.
    """

    mode: Mode = Mode.AUTO
    target_size_kb: int | None = None
    output_format: str = "JPEG"
    profile: str | None = None
    ai: str | None = None
    variants: int = 1

    @classmethod
    def parse(cls, mode: str | Mode | None = "AUTO", target_size_kb: int | str | None = None,
              output_format: str | None = "JPEG", profile: str | None = None, ai: str | None = None,
              variants: int | str | None = 1, *, default_ai: str | None = None) -> "EnhanceOptions":
        """Check and normalise every option.

        Parameters
        ----------
        mode, target_size_kb, output_format, profile, variants
            As a user gave them (strings from forms and manifests are fine;
            empty means the default).
        ai : str, optional
            ``local``, ``gemini`` or ``bedrock``; None means ``default_ai``.
        default_ai : str, optional
            The configured default provider (``AI_PROVIDER``).

        Raises
        ------
        ValueError
            Naming the option, the value and what is accepted.
        """
        m = Mode.parse(mode or "AUTO")
        target = _int_or_none(target_size_kb, "target size")
        if target is not None and not MIN_TARGET_KB <= target <= MAX_TARGET_KB:
            raise ValueError(f"target size must be between {MIN_TARGET_KB} and {MAX_TARGET_KB} KB, got {target}")
        fmt = normalize_output(output_format or "JPEG")
        prof = (str(profile).strip().lower() if profile else "") or None
        if prof:
            prof = get_profile(prof).name  # unknown names fail here, listing the valid ones
        elif m in PROFILED_MODES:
            prof = DEFAULT_PROFILE
        provider = (str(ai).strip().lower() if ai else "") or (default_ai or "local").strip().lower()
        if provider not in AI_PROVIDERS:
            raise ValueError(f"AI provider must be one of {', '.join(AI_PROVIDERS)}, got {ai!r}")
        n = _int_or_none(variants, "variants") or 1
        if not 1 <= n <= MAX_VARIANTS:
            raise ValueError(f"variants must be between 1 and {MAX_VARIANTS}, got {n}")
        return cls(m, target, fmt, prof, None if provider == "local" else provider, n)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None, *, default_ai: str | None = None) -> "EnhanceOptions":
        d = dict(d or {})
        return cls.parse(d.get("mode"), d.get("target_size_kb"), d.get("output_format"), d.get("profile"),
                         d.get("ai"), d.get("variants"),
                         default_ai=default_ai)

    def merged(self, **overrides: Any) -> "EnhanceOptions":
        """These options with per-row overrides (None/empty keeps the value), validated again."""
        d = self.to_dict() | {k: v for k, v in overrides.items() if v not in (None, "")}
        return self.from_dict(d)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["mode"] = self.mode.value
        d["ai"] = self.ai or "local"
        return d

    def key(self) -> str:
        """The canonical key of "the same work" (64 hex characters)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()

    @property
    def wants_review(self) -> bool:
        """Choices a person must make: several variants, or an AI provider's output."""
        return self.variants > 1 or self.ai is not None

    def with_mode(self, mode: str | Mode) -> "EnhanceOptions":
        return replace(self, mode=Mode.parse(mode))


def clean_sku(sku: str | None) -> str | None:
    """A SKU as stored: trimmed; None when empty.

    Raises
    ------
    ValueError
        Longer than 128 characters, or holding control characters (they are
        refused, not cut: two long SKUs cut short could collide).
    """
    if sku is None:
        return None
    s = str(sku).strip()
    if not s:
        return None
    if len(s) > MAX_SKU:
        raise ValueError(f"SKU {s[:40]!r}… is {len(s)} characters; at most {MAX_SKU} are allowed")
    if _CONTROL.search(s):
        raise ValueError(f"SKU {s!r} contains control characters; use letters, digits and punctuation")
    return s


def _int_or_none(value, name: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if not f.is_integer():
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    return int(f)


def clean_filename(name: str | None, *, default: str = "image") -> str:
    """A file name as recorded: control characters removed, at most 255 characters."""
    s = _CONTROL.sub("", str(name or "")).strip()
    return s[-255:] if s else default
