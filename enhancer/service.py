"""The upload-and-enhance service: one synchronous entry point for the app, the CLI and batches.

Order of work keeps failures clean: the photo is decoded and enhanced before
anything is written (bad input writes nothing); objects are stored next and
removed again if a later put or the database commit fails; both rows are
written in one transaction. A crash inside enhancement itself leaves the
original stored with a FAILED row, so an operator can see it and retry.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from db import repo
from db.models import EnhancementHistory, ImageStatus, ProductImage, ReviewStatus, new_id, utcnow

from .errors import (DatabaseError, DuplicateSkuError, EnhancerError, InvalidImageError, NotFoundError,
                     ProviderError, StorageError)
from .imageio import DEFAULT_MAX_PIXELS, make_thumbnail
from .pipeline import enhance
from .storage import Storage
from .storage.keys import enhanced_key, original_key, safe_name, stem, thumbnail_key
from .types import EXTENSIONS, MIME_TYPES, OUTPUT_FORMATS, EnhancementResult, Mode

log = logging.getLogger("enhancer.service")
KB = 1024
MIN_TARGET_KB, MAX_TARGET_KB = 50, 2000
MAX_VARIANTS = 10
THUMBNAIL_PX = 320


@dataclass(frozen=True)
class UploadResult:
    """What one upload or re-enhancement produced (``to_dict`` is the CLI's JSON)."""

    success: bool
    image_id: str | None
    database_id: str | None
    sku_id: str | None
    filename: str
    original_url: str | None = None
    enhanced_url: str | None = None
    original_key: str | None = None
    enhanced_key: str | None = None
    original_size_kb: float | None = None
    enhanced_size_kb: float | None = None
    size_reduction_percent: float | None = None
    quality_before: float | None = None
    quality_after: float | None = None
    quality_improvement: float | None = None
    blur_before: float | None = None
    blur_after: float | None = None
    processing_time_ms: float | None = None
    enhancement_mode: str | None = None
    enhancement_sequence: int | None = None
    width: int | None = None
    height: int | None = None
    original_width: int | None = None
    original_height: int | None = None
    format: str | None = None
    encode_quality: int | None = None
    steps: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    compliance: dict | None = None
    target_met: bool | None = None
    error: str | None = None
    reused: bool = False
    provider: str = "local"
    fell_back: bool = False
    variants: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def download_name(self) -> str:
        ext = EXTENSIONS.get(self.format or "", "jpg")
        return f"{stem(self.filename)}_enhanced.{ext}"

    @property
    def mime_type(self) -> str:
        return MIME_TYPES.get(self.format or "", "application/octet-stream")


VARIANT_MODES = (Mode.AUTO, Mode.LIGHT_CORRECTION, Mode.FULL, Mode.SHARPEN, Mode.DENOISE,
                 Mode.BACKGROUND_REMOVE, Mode.STANDARDIZE, Mode.UPSCALE, Mode.UPSCALE_DENOISE, Mode.OPTIMIZE)


@dataclass(frozen=True)
class EnhanceOptions:
    """Validated options of one request; ``key()`` identifies "the same options" for reuse."""

    mode: Mode = Mode.AUTO
    target_size_kb: int | None = None
    output_format: str = "JPEG"
    profile: str | None = None
    ai: str | None = None
    variants: int = 1

    @classmethod
    def build(cls, mode, target_size_kb=None, output_format="JPEG", profile=None, ai=None,
              variants=1) -> "EnhanceOptions":
        fmt = str(output_format or "JPEG").strip().upper()
        fmt = "JPEG" if fmt == "JPG" else fmt
        if fmt not in OUTPUT_FORMATS:
            raise ValueError(f"output format must be one of {', '.join(OUTPUT_FORMATS)}, got {output_format!r}")
        if not 1 <= int(variants) <= MAX_VARIANTS:
            raise ValueError(f"variants must be between 1 and {MAX_VARIANTS}, got {variants}")
        ai = (ai or "").strip().lower() or None
        return cls(Mode.parse(mode), int(target_size_kb) if target_size_kb else None, fmt,
                   (profile or "").strip().lower() or None, None if ai == "local" else ai, int(variants))

    def key(self) -> dict:
        return {"mode": self.mode.value, "target_size_kb": self.target_size_kb,
                "output_format": self.output_format, "profile": self.profile, "ai": self.ai,
                "variants": self.variants}


@dataclass
class _Variant:
    """One produced result and where it came from; keys are set when stored."""

    result: EnhancementResult
    provider: str = "local"
    model_version: str | None = None
    response_id: str | None = None
    meta: dict = field(default_factory=dict)
    status: str = "completed"
    seq: int = 0
    ekey: str = ""
    tkey: str = ""


def _kb(n: int | None) -> float | None:
    return None if n is None else round(n / KB, 2)


def _reduction(before: int, after: int) -> float:
    return round((1 - after / before) * 100, 2) if before else 0.0


def sku_from_filename(filename: str) -> str:
    """Default SKU: the safe file stem (``IMG 001.jpg`` → ``IMG_001``)."""
    return stem(filename)[:128]


class ImageService:
    """Upload, enhance, store and record photos.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        A migrated database engine (see :func:`db.make_engine`).
    storage : Storage
        Where originals, results and thumbnails go.
    max_upload_bytes, max_pixels : int
        Inputs above these are refused with :class:`InvalidImageError`.
    providers : dict, optional
        AI providers by name (see :mod:`enhancer.providers`); ``local`` needs none.
    """

    def __init__(self, engine: Engine, storage: Storage, *, max_upload_bytes: int = 50 * 1024 * 1024,
                 max_pixels: int = DEFAULT_MAX_PIXELS, providers: dict | None = None,
                 default_ai: str = "local"):
        self.engine = engine
        self.providers = dict(providers or {})
        self.default_ai = default_ai
        self.storage = storage
        self.max_upload_bytes = max_upload_bytes
        self.max_pixels = max_pixels

    # -- helpers -------------------------------------------------------------------------
    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def _validate(self, data: bytes, filename: str, target_size_kb: int | None) -> None:
        if not data:
            raise InvalidImageError(f"{filename}: the file is empty.")
        if len(data) > self.max_upload_bytes:
            raise InvalidImageError(
                f"{filename}: the file is {len(data) / KB / KB:.1f} MB, above the "
                f"{self.max_upload_bytes // KB // KB} MB upload limit.")
        if target_size_kb is not None and not MIN_TARGET_KB <= int(target_size_kb) <= MAX_TARGET_KB:
            raise ValueError(f"target size must be between {MIN_TARGET_KB} and {MAX_TARGET_KB} KB, "
                             f"got {target_size_kb}")

    def _enhance(self, data: bytes, filename: str, **opts) -> EnhancementResult:
        try:
            return enhance(data, max_pixels=self.max_pixels, thumbnail_px=THUMBNAIL_PX, **opts)
        except InvalidImageError as exc:
            raise InvalidImageError(f"{filename}: {exc}") from None

    def _put_all(self, objects: list[tuple[str, bytes, str]]) -> list[str]:
        """Store objects in order; on failure remove those already stored, then raise."""
        done: list[str] = []
        try:
            for key, body, ctype in objects:
                self.storage.put(key, body, content_type=ctype)
                done.append(key)
        except Exception as exc:
            self._remove(done)
            if isinstance(exc, StorageError):
                raise
            raise StorageError(f"Could not store {key}: {exc}") from exc
        return done

    def _remove(self, keys: list[str]) -> None:
        for key in keys:
            try:
                self.storage.delete(key)
            except Exception:  # best effort: report, keep cleaning the rest
                log.exception("[UPLOAD] could not remove %s after a failure", key)

    def _commit(self, write, keys: list[str]):
        """Run ``write(session)`` in one transaction; remove ``keys`` if it fails."""
        try:
            with self.session() as s, s.begin():
                return write(s)
        except IntegrityError as exc:
            self._remove(keys)
            raise DatabaseError(f"The database refused the write (duplicate or missing row): "
                                f"{exc.orig}") from exc
        except SQLAlchemyError as exc:
            self._remove(keys)
            raise DatabaseError(f"The database write failed: {exc.__class__.__name__}: "
                                f"{getattr(exc, 'orig', exc)}") from exc
        except BaseException:
            self._remove(keys)
            raise

    # -- producing results ---------------------------------------------------------------
    def _variant_modes(self, opts: EnhanceOptions) -> list[Mode]:
        """The chosen mode first, then the alternatives a retoucher would try next."""
        others = [m for m in VARIANT_MODES if m != opts.mode]
        return ([opts.mode] + others)[:opts.variants]

    def _produce(self, data: bytes, filename: str, opts: EnhanceOptions) -> list[_Variant]:
        """Enhance ``data`` into ``opts.variants`` results (AI first when asked, local as fallback)."""
        kw = dict(target_size_kb=opts.target_size_kb, output_format=opts.output_format, profile=opts.profile)
        if not opts.ai or opts.ai == "local":
            return [_Variant(self._enhance(data, filename, mode=m, **kw))
                    for m in self._variant_modes(opts)]
        provider = self._provider(opts.ai)
        findings, usage = self._analyze(provider, data)
        local_modes = self._variant_modes(opts)
        before = None  # the original's report, measured once when the first AI edit arrives
        out = []
        for i in range(opts.variants):
            try:
                got = provider.edit(data, variant=i % max(1, len(getattr(provider, "variants", ()) or (1,))))
                if not got.data:
                    raise ProviderError(f"{opts.ai} returned no image", provider=opts.ai)
                fitted = self._enhance(got.data, filename, mode=Mode.OPTIMIZE, **kw)
                before = before or self._enhance_before(data)
                res = replace(fitted, mode=opts.mode, quality_before=before,
                              steps=(f"{opts.ai}_edit",) + fitted.steps)
                meta = {"usage": dict(got.usage or {}), "prompt": got.prompt, "findings": findings,
                        "analysis_usage": usage if i == 0 else {}, "fell_back": False}
                out.append(_Variant(res, provider=got.provider or opts.ai, model_version=got.model_version,
                                    response_id=got.response_id, meta=meta))
                log.info("[UPLOAD] %s: %s variant %d from %s", filename, opts.mode, i + 1, opts.ai)
            except (ProviderError, InvalidImageError) as exc:
                code = getattr(exc, "status_code", None)
                log.warning("[UPLOAD] %s: %s failed (%s); falling back to the local pipeline",
                            filename, opts.ai, exc)
                res = self._enhance(data, filename, mode=local_modes[i], **kw)
                out.append(_Variant(res, status="fallback", meta={
                    "requested_provider": opts.ai, "fell_back": True, "status_code": code,
                    "error": str(exc)[:1000], "findings": findings,
                    "analysis_usage": usage if i == 0 else {}}))
        return out

    def _enhance_before(self, data: bytes):
        from .quality import assess

        return assess(data, max_pixels=self.max_pixels)

    def _provider(self, name: str):
        try:
            return self.providers[name]
        except KeyError:
            valid = ", ".join(sorted({"local", *self.providers}))
            raise ValueError(f"AI provider {name!r} is not configured; available: {valid}") from None

    def _analyze(self, provider, data: bytes) -> tuple[dict, dict]:
        analyze = getattr(provider, "analyze", None)
        if analyze is None:
            return {}, {}
        try:
            got = analyze(data)
            return dict(got.findings or {}), dict(got.usage or {})
        except ProviderError as exc:
            return {"error": str(exc)[:500], "status_code": exc.status_code}, {}

    def _store_variants(self, image_id: str, filename: str, first_seq: int,
                        variants: list[_Variant]) -> list[tuple[str, bytes, str]]:
        objs = []
        for i, v in enumerate(variants):
            seq = first_seq + i
            v.seq = seq
            v.ekey = enhanced_key(image_id, seq, filename, v.result.extension)
            v.tkey = thumbnail_key(image_id, seq)
            objs += [(v.ekey, v.result.data, v.result.mime_type),
                     (v.tkey, v.result.thumbnail or make_thumbnail(v.result.data), "image/jpeg")]
        return objs

    def _add_rows(self, s: Session, img: ProductImage, variants: list[_Variant], opts: EnhanceOptions,
                  elapsed: float) -> list[str]:
        review = ReviewStatus.PENDING
        rows = []
        for v in variants:
            row = self._history_row(img, v.seq, v.result, v.ekey, v.tkey, elapsed, provider=v.provider,
                                    review=review, model_version=v.model_version, response_id=v.response_id,
                                    provider_metadata=v.meta, options=opts, status=v.status)
            if v.meta.get("findings"):  # the provider's analysis belongs with the quality figures
                row.quality_metadata = {**row.quality_metadata, "ai_analysis": v.meta["findings"]}
            s.add(row)
            rows.append(row)
        self._apply_latest(img, rows[0], variants[0].result, elapsed)
        img.status = ImageStatus.COMPLETED
        img.error_message = None
        img.review_status = ReviewStatus.PENDING_REVIEW if len(variants) > 1 else ReviewStatus.PENDING
        s.flush()
        return [r.id for r in rows]

    # -- public --------------------------------------------------------------------------
    def upload_and_enhance(self, data: bytes, filename: str, *, sku_id: str | None = None,
                           mode: str | Mode = "AUTO", target_size_kb: int | None = None,
                           output_format: str = "JPEG", profile: str | None = None,
                           ai: str | None = None, variants: int = 1,
                           reuse_existing: bool = False) -> UploadResult:
        """Enhance one uploaded photo and record it.

        Parameters
        ----------
        data, filename : bytes, str
            The upload as received.
        sku_id : str, optional
            Defaults to the file's stem. The same SKU with the same bytes adds
            an enhancement to the existing image.
        mode, target_size_kb, output_format, profile
            As for :func:`enhancer.enhance`; target 50-2000 KB.
        ai : str, optional
            ``"gemini"`` or ``"bedrock"`` to edit with that provider first
            (the local pipeline is the fallback); ``None``/``"local"`` for the
            classic pipeline.
        variants : int
            Results to make (1-10); more than one puts the image up for review.
        reuse_existing : bool
            Return the earlier result when these bytes were already enhanced
            under this SKU with the same options.

        Raises
        ------
        InvalidImageError
            The bytes are not a usable image (nothing is written).
        DuplicateSkuError
            The SKU belongs to a different photo (nothing is written).
        StorageError, DatabaseError
            Storing or recording failed; stored objects were removed again.
        """
        t0 = time.perf_counter()
        filename = filename or "image"
        sku_id = (sku_id or "").strip()[:128] or sku_from_filename(filename)
        opts = EnhanceOptions.build(mode, target_size_kb, output_format, profile, ai or self.default_ai, variants)
        self._validate(data, filename, target_size_kb)
        sha = hashlib.sha256(data).hexdigest()
        log.info("[UPLOAD] %s: %d bytes, sku=%s, mode=%s", safe_name(filename), len(data), sku_id, opts.mode)

        with self.session() as s:
            existing = repo.get_by_sku(s, sku_id)
            if existing is not None and existing.content_sha256 == sha and reuse_existing:
                earlier = next((h for h in reversed(repo.history(s, existing.id))
                                if (h.quality_metadata or {}).get("options") == opts.key()), None)
                if earlier is not None:
                    log.info("[UPLOAD] %s: same photo and options already done; reusing #%d",
                             sku_id, earlier.enhancement_sequence)
                    return self._result_from_row(existing, earlier)
        if existing is not None:
            if existing.content_sha256 != sha:
                raise DuplicateSkuError(
                    f"SKU {sku_id!r} already has a different photo ({existing.original_filename}). "
                    "Choose another SKU, or re-enhance the existing image.")
            log.info("[UPLOAD] %s: same photo already stored as %s; adding an enhancement", sku_id, existing.id)
            return self._reenhance(existing.id, opts)

        image_id = new_id()
        okey = original_key(image_id, filename)
        ctype = _sniff_mime(data)
        try:
            produced = self._produce(data, filename, opts)
        except (InvalidImageError, ValueError):
            log.info("[UPLOAD] %s: rejected, not a usable image", safe_name(filename))
            raise
        except Exception as exc:  # an enhancement bug must not lose the upload
            log.exception("[UPLOAD] %s: enhancement failed", safe_name(filename))
            return self._record_failure(image_id, sku_id, filename, data, sha, okey, ctype, opts.mode, exc, t0)
        first = produced[0].result
        log.info("[UPLOAD] %s: enhanced %s in %.0f ms (%s)", sku_id, opts.mode, first.processing_time_ms,
                 ", ".join(first.steps) or "no steps needed")

        keys = self._put_all([(okey, data, ctype)] + self._store_variants(image_id, filename, 1, produced))
        log.info("[UPLOAD] %s: stored %s and %d result(s)", sku_id, okey, len(produced))
        elapsed = round((time.perf_counter() - t0) * 1000, 1)

        def write(s: Session) -> list[str]:
            qb = first.quality_before
            img = ProductImage(id=image_id, sku_id=sku_id, original_filename=filename[:255],
                               original_size_bytes=len(data), original_width=qb.width,
                               original_height=qb.height, original_format=qb.format[:16],
                               content_sha256=sha, original_key=okey, image_url=self.storage.public_url(okey))
            s.add(img)
            return self._add_rows(s, img, produced, opts, elapsed)

        ids = self._commit(write, keys)
        log.info("[UPLOAD] %s: recorded image %s with %d enhancement(s) (%.0f ms total)",
                 sku_id, image_id, len(ids), elapsed)
        return self._result(image_id, ids[0], sku_id, filename, okey, produced[0], len(data), elapsed,
                            extra=[(i, v) for i, v in zip(ids[1:], produced[1:])])

    def reenhance(self, image_id: str, *, mode: str | Mode = "AUTO", target_size_kb: int | None = None,
                  output_format: str = "JPEG", profile: str | None = None, ai: str | None = None,
                  variants: int = 1) -> UploadResult:
        """Enhance a stored original again; adds history rows N+1…, never touches the original."""
        self._validate(b"x", "", target_size_kb)
        return self._reenhance(image_id, EnhanceOptions.build(mode, target_size_kb, output_format, profile,
                                                               ai or self.default_ai, variants))

    def _reenhance(self, image_id: str, opts: EnhanceOptions) -> UploadResult:
        t0 = time.perf_counter()
        with self.session() as s:
            img = repo.get_image(s, image_id)
            if img is None:
                raise NotFoundError(f"No image with id {image_id}")
            okey, filename, sku_id = img.original_key, img.original_filename, img.sku_id
            seq = repo.next_sequence(s, image_id)
        data = self.storage.get(okey)
        produced = self._produce(data, filename, opts)
        keys = self._put_all(self._store_variants(image_id, filename, seq, produced))
        elapsed = round((time.perf_counter() - t0) * 1000, 1)

        def write(s: Session) -> list[str]:
            img = repo.get_image(s, image_id)
            if img is None:
                raise NotFoundError(f"Image {image_id} was deleted while it was being enhanced")
            return self._add_rows(s, img, produced, opts, elapsed)

        ids = self._commit(write, keys)
        log.info("[UPLOAD] %s: re-enhanced as #%d (%s)", sku_id, seq, opts.mode)
        return self._result(image_id, ids[0], sku_id, filename, okey, produced[0], len(data), elapsed,
                            extra=[(i, v) for i, v in zip(ids[1:], produced[1:])])

    # -- rows ----------------------------------------------------------------------------
    def _history_row(self, img: ProductImage, seq: int, r: EnhancementResult, ekey: str, tkey: str,
                     elapsed: float, *, provider: str = "local", review: ReviewStatus = ReviewStatus.PENDING,
                     model_version: str | None = None, response_id: str | None = None,
                     provider_metadata: dict | None = None, options: EnhanceOptions | None = None,
                     status: str = "completed") -> EnhancementHistory:
        qb, qa = r.quality_before, r.quality_after
        size_before = img.original_size_bytes or qb.size_bytes
        return EnhancementHistory(
            product_image_id=img.id, enhancement_sequence=seq, enhancement_mode=r.mode.value,
            original_s3_url=self.storage.uri(img.original_key), original_https_url=img.image_url,
            enhanced_s3_url=self.storage.uri(ekey), enhanced_https_url=self.storage.public_url(ekey),
            original_size_bytes=size_before, enhanced_size_bytes=r.size_bytes,
            original_quality_score=qb.quality_score, enhanced_quality_score=qa.quality_score,
            quality_metadata={
                "blur_before": qb.blur_score, "blur_after": qa.blur_score,
                "blur_improvement": round(qa.blur_score - qb.blur_score, 2),
                "quality_improvement": round(qa.quality_score - qb.quality_score, 2),
                "improvement_percent": round((qa.quality_score - qb.quality_score) / qb.quality_score * 100, 2)
                if qb.quality_score else None,
                "steps": list(r.steps), "warnings_before": list(qb.warnings),
                "warnings_after": list(qa.warnings), "before": qb.to_dict(), "after": qa.to_dict(),
                "encode_quality": r.encode_quality, "target_met": r.target_met,
                "compliance": r.compliance.to_dict() if r.compliance else None,
                "options": options.key() if options else None},
            size_metadata={"original_kb": _kb(size_before), "enhanced_kb": _kb(r.size_bytes),
                           "reduction_percent": _reduction(size_before, r.size_bytes),
                           "width": r.width, "height": r.height, "format": r.format},
            processing_time_ms=elapsed, processing_status=status, provider=provider,
            model_version=model_version, response_id=response_id, review_status=review,
            enhanced_key=ekey, thumbnail_key=tkey, enhanced_format=r.format,
            enhanced_width=r.width, enhanced_height=r.height, provider_metadata=provider_metadata or {})

    def _apply_latest(self, img: ProductImage, row: EnhancementHistory, r: EnhancementResult,
                      elapsed: float) -> None:
        """Make ``row`` the image's current enhanced file and figures."""
        img.enhanced_image_url = row.enhanced_https_url
        img.enhanced_key, img.thumbnail_key = row.enhanced_key, row.thumbnail_key
        img.enhanced_size_bytes, img.enhanced_width, img.enhanced_height = r.size_bytes, r.width, r.height
        img.enhanced_format = r.format
        img.enhancement_mode = r.mode.value
        img.processing_time_ms = elapsed
        img.processed_at = utcnow()
        img.quality_before = r.quality_before.quality_score
        img.quality_after = r.quality_after.quality_score
        img.size_reduction_percent = _reduction(img.original_size_bytes or 0, r.size_bytes)

    def _record_failure(self, image_id, sku_id, filename, data, sha, okey, ctype, mode, exc, t0) -> UploadResult:
        message = f"Enhancement failed: {exc.__class__.__name__}: {exc}"[:2000]
        keys = self._put_all([(okey, data, ctype)])

        def write(s: Session) -> None:
            s.add(ProductImage(id=image_id, sku_id=sku_id, original_filename=filename[:255],
                               original_size_bytes=len(data), content_sha256=sha, original_key=okey,
                               image_url=self.storage.public_url(okey), status=ImageStatus.FAILED,
                               enhancement_mode=mode.value, error_message=message, processed_at=utcnow()))

        self._commit(write, keys)
        return UploadResult(success=False, image_id=image_id, database_id=None, sku_id=sku_id,
                            filename=filename, original_key=okey, original_url=self.storage.public_url(okey),
                            original_size_kb=_kb(len(data)), enhancement_mode=mode.value, error=message,
                            processing_time_ms=round((time.perf_counter() - t0) * 1000, 1))

    def _result(self, image_id: str, hid: str, sku_id: str, filename: str, okey: str, v: _Variant,
                size_before: int, elapsed: float, *, extra=()) -> UploadResult:
        r = v.result
        qb, qa = r.quality_before, r.quality_after
        return UploadResult(
            success=True, image_id=image_id, database_id=hid, sku_id=sku_id, filename=filename,
            original_url=self.storage.public_url(okey), enhanced_url=self.storage.public_url(v.ekey),
            original_key=okey, enhanced_key=v.ekey, original_size_kb=_kb(size_before),
            enhanced_size_kb=_kb(r.size_bytes), size_reduction_percent=_reduction(size_before, r.size_bytes),
            quality_before=qb.quality_score, quality_after=qa.quality_score,
            quality_improvement=round(qa.quality_score - qb.quality_score, 2),
            blur_before=qb.blur_score, blur_after=qa.blur_score, processing_time_ms=elapsed,
            enhancement_mode=r.mode.value, enhancement_sequence=v.seq, width=r.width, height=r.height,
            original_width=qb.width, original_height=qb.height, format=r.format,
            encode_quality=r.encode_quality, steps=list(r.steps), warnings=list(qb.warnings),
            compliance=r.compliance.to_dict() if r.compliance else None, target_met=r.target_met,
            provider=v.provider, fell_back=bool(v.meta.get("fell_back")),
            variants=[{"database_id": i, "enhancement_sequence": x.seq, "enhanced_key": x.ekey,
                       "enhanced_url": self.storage.public_url(x.ekey), "provider": x.provider,
                       "enhanced_size_kb": _kb(x.result.size_bytes),
                       "quality_after": x.result.quality_after.quality_score} for i, x in extra])

    def _result_from_row(self, img: ProductImage, h: EnhancementHistory) -> UploadResult:
        qm, sm = h.quality_metadata or {}, h.size_metadata or {}
        before = qm.get("before") or {}
        return UploadResult(
            success=True, image_id=img.id, database_id=h.id, sku_id=img.sku_id, filename=img.original_filename,
            original_url=img.image_url, enhanced_url=h.enhanced_https_url, original_key=img.original_key,
            enhanced_key=h.enhanced_key, original_size_kb=_kb(h.original_size_bytes),
            enhanced_size_kb=_kb(h.enhanced_size_bytes), size_reduction_percent=sm.get("reduction_percent"),
            quality_before=h.original_quality_score, quality_after=h.enhanced_quality_score,
            quality_improvement=qm.get("quality_improvement"), blur_before=qm.get("blur_before"),
            blur_after=qm.get("blur_after"), processing_time_ms=h.processing_time_ms,
            enhancement_mode=h.enhancement_mode, enhancement_sequence=h.enhancement_sequence,
            width=h.enhanced_width, height=h.enhanced_height, original_width=before.get("width"),
            original_height=before.get("height"), format=h.enhanced_format,
            encode_quality=qm.get("encode_quality"), steps=list(qm.get("steps") or []),
            warnings=list(before.get("warnings") or []), compliance=qm.get("compliance"),
            target_met=qm.get("target_met"), provider=h.provider, reused=True,
            fell_back=bool((h.provider_metadata or {}).get("fell_back")))

    # -- review ------------------------------------------------------------------------
    def set_review(self, history_id: str, decision: str) -> None:
        """Approve or reject one enhancement.

        Approving makes it the image's enhanced file and rejects the image's
        other pending variants; rejecting the last open variant marks the
        image rejected.

        Raises
        ------
        ValueError
            ``decision`` is not ``approved`` or ``rejected``.
        NotFoundError
            No enhancement has that id.
        """
        raw, decision = decision, _DECISIONS.get(str(decision).strip().lower(), "")
        if not decision:
            raise ValueError(f"decision must be 'approved' or 'rejected', got {raw!r}")

        def write(s: Session) -> None:
            row = repo.get_history(s, history_id)
            if row is None:
                raise NotFoundError(f"No enhancement with id {history_id}")
            img = row.image
            siblings = repo.history(s, img.id)
            if decision == "approved":
                row.review_status = ReviewStatus.APPROVED
                for other in siblings:
                    if other.id != row.id and other.review_status in (ReviewStatus.PENDING, ReviewStatus.APPROVED):
                        other.review_status = ReviewStatus.REJECTED
                img.review_status = ReviewStatus.APPROVED
                img.enhanced_image_url, img.enhanced_key = row.enhanced_https_url, row.enhanced_key
                img.thumbnail_key, img.enhanced_size_bytes = row.thumbnail_key, row.enhanced_size_bytes
                img.enhanced_width, img.enhanced_height = row.enhanced_width, row.enhanced_height
                img.enhanced_format, img.enhancement_mode = row.enhanced_format, row.enhancement_mode
                img.quality_after = row.enhanced_quality_score
                img.size_reduction_percent = (row.size_metadata or {}).get("reduction_percent")
            else:
                row.review_status = ReviewStatus.REJECTED
                states = {h.review_status for h in siblings}
                if ReviewStatus.APPROVED not in states and ReviewStatus.PENDING not in states:
                    img.review_status = ReviewStatus.REJECTED
            log.info("[REVIEW] %s: enhancement #%d %s", img.sku_id, row.enhancement_sequence, decision)

        self._commit(write, [])

    # -- reads ---------------------------------------------------------------------------
    def read(self, key: str) -> bytes:
        return self.storage.get(key)

    def link(self, key: str, *, download_name: str | None = None) -> str:
        return self.storage.url(key, download_name=download_name)


_DECISIONS = {"approve": "approved", "approved": "approved", "reject": "rejected", "rejected": "rejected"}


def _sniff_mime(data: bytes) -> str:
    head = data[:16]
    if head.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:3] == b"GIF":
        return "image/gif"
    if head[:2] in (b"II", b"MM"):
        return "image/tiff"
    if head[:2] == b"BM":
        return "image/bmp"
    return "application/octet-stream"


__all__ = ["ImageService", "UploadResult", "sku_from_filename", "EnhancerError"]
