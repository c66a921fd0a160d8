"""Result types of the public API (plain frozen dataclasses)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum


class Mode(str, Enum):
    """Enhancement modes. ``Mode("auto")`` and ``Mode("AUTO")`` are the same."""

    AUTO = "AUTO"
    BACKGROUND_REMOVE = "BACKGROUND_REMOVE"
    LIGHT_CORRECTION = "LIGHT_CORRECTION"
    UPSCALE_DENOISE = "UPSCALE_DENOISE"
    STANDARDIZE = "STANDARDIZE"
    SHARPEN = "SHARPEN"
    DENOISE = "DENOISE"
    UPSCALE = "UPSCALE"
    OPTIMIZE = "OPTIMIZE"
    FULL = "FULL"

    @classmethod
    def _missing_(cls, value):
        if isinstance(value, str):
            key = value.strip().upper().replace("-", "_").replace(" ", "_")
            if key in cls.__members__:
                return cls[key]
        return None

    @classmethod
    def parse(cls, value: "str | Mode") -> "Mode":
        """Like ``Mode(value)`` but raises a ValueError that lists the valid modes."""
        try:
            return cls(value)
        except ValueError:
            valid = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown mode {value!r}; valid modes: {valid}") from None

    def __str__(self) -> str:  # so f-strings show AUTO, not Mode.AUTO
        return self.value


@dataclass(frozen=True)
class QualityReport:
    """What :func:`enhancer.assess` measured. Scores are 0-100, higher is better."""

    width: int
    height: int
    format: str
    size_bytes: int
    blur_score: float
    brightness: float
    contrast: float
    noise: float
    clipped_highlights: float
    clipped_shadows: float
    quality_score: float
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["warnings"] = list(self.warnings)
        return d


@dataclass(frozen=True)
class RuleResult:
    """One marketplace rule: its name, whether it passed, measured vs expected."""

    name: str
    passed: bool
    measured: str
    expected: str


@dataclass(frozen=True)
class ComplianceReport:
    profile: str
    rules: tuple[RuleResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rules)

    def to_dict(self) -> dict:
        return {"profile": self.profile, "passed": self.passed,
                "rules": [asdict(r) for r in self.rules]}


@dataclass(frozen=True)
class EnhancementResult:
    """What :func:`enhancer.enhance` produced.

    ``quality_after.warnings`` describe the result; ``fixed`` lists what the
    steps fixed; ``notes`` say in plain words what else happened (a mode that
    changed nothing and why, a downscale to meet the byte budget, a target
    or floor not met, why the file grew).
    """

    data: bytes
    width: int
    height: int
    format: str
    size_bytes: int
    mode: Mode
    steps: tuple[str, ...]
    quality_before: QualityReport
    quality_after: QualityReport
    processing_time_ms: float
    encode_quality: int | None = None
    compliance: ComplianceReport | None = None
    target_met: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)
    thumbnail: bytes | None = field(default=None, repr=False)
    #: What the steps fixed, in plain words ("Lifted exposure (brightness 52 -> 118)");
    #: the "before" findings that are gone. ``notes`` says what else happened.
    fixed: tuple[str, ...] = ()

    @property
    def mime_type(self) -> str:
        return MIME_TYPES.get(self.format, "application/octet-stream")

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.format, "bin")


from .formats import EXTENSIONS, MIME_TYPES, OUTPUT_FORMATS  # noqa: E402,F401  (one place: enhancer.formats)

#: Modes that place the product on a marketplace canvas: they use a profile even when none is given.
PROFILED_MODES = (Mode.STANDARDIZE, Mode.FULL)
DEFAULT_PROFILE = "generic"
