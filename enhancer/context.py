"""The small context every enhancement step receives."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .compliance import Provenance
from .types import ComplianceReport, QualityReport


@dataclass
class Options:
    """Caller's options, validated once by :func:`enhancer.enhance`."""

    target_size_kb: int | None = None
    output_format: str = "JPEG"
    profile: str | None = None
    upscale_target: int = 2000


@dataclass
class Context:
    """Mutable state a pipeline run threads through its steps.

    ``alpha`` is set by background removal (255 = product); ``report`` is the
    quality report of the input, which steps read to pick their strength.
    ``provenance`` records where the output's pixels came from (steps that
    resize or pad update it) so compliance measures the photo, not our canvas.
    """

    report: QualityReport
    options: Options
    alpha: np.ndarray | None = None
    compliance: ComplianceReport | None = None
    notes: list[str] = field(default_factory=list)
    provenance: Provenance = field(default_factory=Provenance)
