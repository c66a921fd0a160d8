"""Make the results of one request: the local pipeline, or an AI provider with the local pipeline as fallback.

Nothing here touches the database or the store; a produced :class:`Variant`
is stored and recorded by :mod:`enhancer.service.record`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from ..errors import InvalidImageError, ProviderError
from ..imageio import decode
from ..options import EnhanceOptions
from ..pipeline import enhance
from ..quality import assess
from ..storage.keys import safe_name
from ..types import EnhancementResult, Mode
from .backends import THUMBNAIL_PX, Backends

log = logging.getLogger("enhancer.service")

#: After the chosen mode, the alternatives a retoucher would try next (for ``variants > 1``).
VARIANT_MODES = (Mode.AUTO, Mode.LIGHT_CORRECTION, Mode.FULL, Mode.SHARPEN, Mode.DENOISE,
                 Mode.BACKGROUND_REMOVE, Mode.STANDARDIZE, Mode.UPSCALE, Mode.UPSCALE_DENOISE, Mode.OPTIMIZE)


@dataclass
class Variant:
    """One produced result and where it came from."""

    result: EnhancementResult
    provider: str = "local"
    model_version: str | None = None
    response_id: str | None = None
    meta: dict = field(default_factory=dict)
    status: str = "completed"  # or "fallback": the AI provider failed and the local pipeline made it


def variant_modes(opts: EnhanceOptions) -> list[Mode]:
    """The chosen mode first, then the alternatives, ``opts.variants`` in all."""
    return ([opts.mode] + [m for m in VARIANT_MODES if m != opts.mode])[:opts.variants]


def produce(b: Backends, data: bytes, filename: str, opts: EnhanceOptions) -> list[Variant]:
    """Enhance ``data`` into ``opts.variants`` results.

    Raises
    ------
    InvalidImageError
        The bytes are not a usable image (the message starts with the file name).
    ValueError
        The AI provider asked for is not configured.
    """
    if opts.ai is None:
        modes = variant_modes(opts)
        dec = _decode_once(data, filename, b) if len(modes) > 1 else None
        return [Variant(_local(b, data, filename, opts, m, decoded=dec)) for m in modes]
    provider = _provider(b, opts.ai)
    findings, usage = _analyze(provider, data)
    local_modes = variant_modes(opts)
    labels = getattr(provider, "variants", ()) or (1,)
    before = None  # the original's report, measured once when the first AI edit arrives
    out = []
    for i in range(opts.variants):
        try:
            got = provider.edit(data, variant=i % len(labels))
            if not got.data:
                raise ProviderError(f"{opts.ai} returned no image", provider=opts.ai)
            fitted = _local(b, got.data, filename, opts, Mode.OPTIMIZE)
            before = before or assess(data, max_pixels=b.limits.max_pixels)
            res = replace(fitted, mode=opts.mode, quality_before=before, steps=(f"{opts.ai}_edit",) + fitted.steps)
            meta = {"usage": dict(got.usage or {}), "prompt": got.prompt, "findings": findings,
                    "analysis_usage": usage if i == 0 else {}, "fell_back": False}
            out.append(Variant(res, provider=got.provider or opts.ai, model_version=got.model_version,
                               response_id=got.response_id, meta=meta))
            log.info("[UPLOAD] %s: %s variant %d from %s", safe_name(filename), opts.mode, i + 1, opts.ai)
        except (ProviderError, InvalidImageError) as exc:
            log.warning("[UPLOAD] %s: %s failed (%s); falling back to the local pipeline",
                        safe_name(filename), opts.ai, exc)
            res = _local(b, data, filename, opts, local_modes[i])
            out.append(Variant(res, status="fallback", meta={
                "requested_provider": opts.ai, "fell_back": True,
                "status_code": getattr(exc, "status_code", None), "error": str(exc)[:1000],
                "findings": findings, "analysis_usage": usage if i == 0 else {}}))
    return out


def _decode_once(data: bytes, filename: str, b: Backends):
    """One decode for every variant; read-only, so no mode can change what the next one sees."""
    try:
        dec = decode(data, max_pixels=b.limits.max_pixels)
    except InvalidImageError as exc:
        raise InvalidImageError(f"{filename}: {exc}") from None
    for arr in (dec.rgb, dec.alpha):
        if arr is not None:
            arr.setflags(write=False)
    return dec


def _local(b: Backends, data: bytes, filename: str, opts: EnhanceOptions, mode: Mode,
           decoded=None) -> EnhancementResult:
    try:
        return enhance(data, mode, target_size_kb=opts.target_size_kb, output_format=opts.output_format,
                       profile=opts.profile, max_pixels=b.limits.max_pixels, thumbnail_px=THUMBNAIL_PX,
                       decoded=decoded)
    except InvalidImageError as exc:
        raise InvalidImageError(f"{filename}: {exc}") from None


def _provider(b: Backends, name: str):
    try:
        return b.providers[name]
    except KeyError:
        valid = ", ".join(sorted({"local", *b.providers}))
        raise ValueError(f"AI provider {name!r} is not configured; available: {valid}") from None


def _analyze(provider, data: bytes) -> tuple[dict, dict]:
    analyze = getattr(provider, "analyze", None)
    if analyze is None:
        return {}, {}
    try:
        got = analyze(data)
        return dict(got.findings or {}), dict(got.usage or {})
    except ProviderError as exc:
        return {"error": str(exc)[:500], "status_code": exc.status_code}, {}
