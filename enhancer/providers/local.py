"""The classic (non-AI) enhancer behind the provider interface; always available."""
from __future__ import annotations

from ..pipeline import enhance
from ..quality import assess
from ..types import Mode
from .base import VARIANTS, AIConfig, ProviderResult, pick_variant

#: The local stand-in for each AI variant (same index as :data:`VARIANTS`).
_VARIANT_MODES: tuple[Mode, ...] = (
    Mode.FULL,               # white_background: cut-out and standardise on white
    Mode.LIGHT_CORRECTION,   # lighting
    Mode.AUTO,               # sharpen_colour: light, denoise, sharpen
    Mode.STANDARDIZE,        # lifestyle_neutral has no local equivalent; keep it clean
)
assert len(_VARIANT_MODES) == len(VARIANTS)

# Quality warnings -> the mode that fixes them. One kind of problem gets its own mode;
# several get AUTO, whose steps each fix one of them.
_WARNING_MODES = (
    ("blurry", Mode.SHARPEN),
    ("underexposed", Mode.LIGHT_CORRECTION),
    ("overexposed", Mode.LIGHT_CORRECTION),
    ("low contrast", Mode.LIGHT_CORRECTION),
    ("noisy", Mode.DENOISE),
    ("grainy", Mode.DENOISE),
    ("small", Mode.UPSCALE),
)


class LocalProvider:
    """Runs :func:`enhancer.enhance`; the edit variant picks the mode.

    Parameters
    ----------
    config : AIConfig, optional
        Unused; accepted so every provider is built the same way.
    output_format : {"PNG", "JPEG", "WEBP"}
        Encoding of edited images. PNG keeps them lossless for later size targeting.
    """

    name = "local"
    variants = tuple(v.name for v in VARIANTS)

    def __init__(self, config: AIConfig | None = None, *, output_format: str = "PNG"):
        self._format = output_format

    def available(self) -> tuple[bool, str]:
        return True, ""

    def check(self) -> None:
        return None

    def analyze(self, data: bytes) -> ProviderResult:
        """Findings from :func:`enhancer.assess`: its warnings and the mode that fixes them.

        Raises
        ------
        InvalidImageError
            If ``data`` is not a usable image.
        """
        report = assess(data)
        problems = list(report.warnings)
        fixes = {mode for needle, mode in _WARNING_MODES
                 if any(needle in w.lower() for w in problems)}
        suggested = fixes.pop() if len(fixes) == 1 else Mode.AUTO
        findings = {"problems": problems, "suggested_mode": suggested.value,
                    "product_category": None, "alt_text": None,
                    "quality_score": report.quality_score}
        return ProviderResult(data=None, provider=self.name, findings=findings, prompt="assess")

    def edit(self, data: bytes, *, prompt: str | None = None, variant: int = 0) -> ProviderResult:
        """Enhance with the mode mapped to ``variant``; ``prompt`` is ignored (recorded only).

        Raises
        ------
        InvalidImageError
            If ``data`` is not a usable image.
        ValueError
            If ``variant`` is out of range.
        """
        pick_variant(variant, prompt)  # validates the index the same way as the AI providers
        mode = _VARIANT_MODES[int(variant)]
        result = enhance(data, mode, output_format=self._format)
        return ProviderResult(data=result.data, provider=self.name, model_version=None,
                              response_id=None, usage={"processing_time_ms": result.processing_time_ms},
                              findings={"steps": list(result.steps)}, prompt=f"mode={mode.value}",
                              mime_type=result.mime_type)
