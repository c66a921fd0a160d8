"""The mode table: each mode is a named, ordered tuple of steps. Read top to bottom.

Steps decide for themselves (from ``ctx.report``) whether they apply, so the
table never branches; AUTO lists every step a careful retoucher might take
and each returns early when its problem is absent. Size targeting always runs
last, in :mod:`enhancer.pipeline`.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .context import Context
from .steps.background import remove_background
from .steps.denoise import denoise
from .steps.light import light_correction
from .steps.sharpen import sharpen
from .steps.standardize import standardize
from .steps.upscale import upscale, upscale_if_small
from .types import Mode

Step = Callable[[np.ndarray, Context], np.ndarray]

MODES: dict[Mode, tuple[Step, ...]] = {
    # Denoise first: it reads the input's noise, which light correction would amplify.
    Mode.AUTO: (denoise, light_correction, sharpen, upscale_if_small),
    Mode.LIGHT_CORRECTION: (light_correction,),
    Mode.DENOISE: (denoise,),
    Mode.SHARPEN: (sharpen,),
    Mode.UPSCALE: (upscale,),
    Mode.UPSCALE_DENOISE: (denoise, upscale),
    Mode.BACKGROUND_REMOVE: (remove_background,),
    Mode.STANDARDIZE: (standardize,),
    Mode.OPTIMIZE: (),
    Mode.FULL: (denoise, light_correction, sharpen, remove_background, standardize),
}
