"""Size targeting: the last step of every mode. Few encodes, never over, best effort.

How the quality is found (instead of a blind bisection of full encodes):

1. A mosaic of tiles spread over the image (about 1/12 of its pixels) is
   encoded with the fast encoder; its bytes-per-pixel at a given quality
   predicts the full image's size (tiles keep the real detail density, which a
   downscaled copy would not). A bracketing secant search on the mosaic finds
   the quality for a size in a few sample encodes (the size curve bends and
   steps, so exact samples beat interpolating a fixed grid).
2. JPEG: before any full progressive encode the prediction is calibrated
   where the answer is, by two cheap measurements: the whole image with the
   fast encoder (mosaic vs whole-image density) and the mosaic progressive
   (what progressive, optimised Huffman tables save). One full encode then
   usually lands between 94 % and 100 % of the target.
3. A full encode's size recalibrates the curve, and the next guess is taken
   inside the bracket already known (secant between two real encodes). A
   result at least 94 % full is kept, except below quality 55, where bytes
   show most: there one more encode aims at 99 %.
4. When even a low quality does not fit (predicted by a clear margin, so no
   full encode is spent on it), the scale is predicted from the bytes per
   pixel at that quality, and the search runs again on the downscaled image.

Without a byte target the image is encoded once at the default quality;
JPEG over :data:`PROGRESSIVE_MAX_PX` is then baseline (see there).

JPEG quality is a float: quantisation tables are scaled continuously (the
IJG formula), so the result can land within a percent or two of the target
instead of jumping a whole quality step.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from .imageio import composite_on, encode, to_pil

DEFAULT_QUALITY = {"JPEG": 92.0, "WEBP": 90.0}
MIN_QUALITY = {"JPEG": 42.0, "WEBP": 30.0}   # below this, downscaling looks better than blocking
SCALED_QUALITY = {"JPEG": 50.0, "WEBP": 40.0}  # a downscale is sized for this quality to fit
MAX_QUALITY = 100.0
# Full-resolution chroma (4:4:4) only up to this size: above it 4:2:0 is invisible at any
# viewing scale (camera JPEGs are 4:2:0 already) and halves the encode time of a 12 MP photo.
FULL_CHROMA_MAX_PX = 4_000_000
# Progressive scans cost 2-2.5x the optimised baseline encode (12 MP: ~300 vs ~130 ms) for ~5 %
# fewer bytes. That buys quality where bytes are the budget (a size target) and progressive
# rendering where the image is web-sized, so only a large image with no byte budget is baseline.
PROGRESSIVE_MAX_PX = 4_000_000
FILL = 0.90           # when the target binds, the result fills at least this much of it
GOOD = 0.94           # stop searching once this full: a margin over FILL, not worth another encode
CALIB = 0.92          # optimised progressive full image vs fast-encoded tile mosaic, before measuring
CALIB_EXACT = 0.93    # optimised progressive vs fast, same pixels
MISS = 1.04           # predicted this much over the target at the lowest quality: downscale without trying
MISS_ROUGH = 1.15     # the same, for an uncalibrated prediction
MISS_FAR = 1.4        # the same, before calibrating a mosaic (its density can be ~30 % off)
LOW_Q = 55.0          # below this quality ...
FINE = 0.985          # ... a result this much under the target is worth one more encode
AIM = 0.985           # first guesses aim a little under the target
START_QUALITY = 75.0  # where the sample search starts
SLOPE = 0.025         # d log(bytes) / d quality, to extrapolate from one measured point
MAX_FULL_ENCODES = 6  # per scale
MIN_SIDE = 16

# IJG (Annex K) base tables, natural order; scaled like libjpeg's jpeg_quality_scaling
_LUMA = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
         14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
         49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]
_CHROMA = [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
           47, 66, 99, 99, 99, 99, 99, 99] + [99] * 32


@dataclass(frozen=True)
class Fitted:
    """What size targeting produced: the bytes and how it got there."""

    data: bytes
    width: int
    height: int
    format: str
    quality: int | None
    target_met: bool
    encodes: int = 0          # full-size encodes with the final settings (samples and fast probes not counted)
    floor_met: bool = True
    scaled: float = 1.0       # linear downscale applied to fit


def _qtables(q: float) -> list[list[int]]:
    q = min(max(q, 1.0), 100.0)
    s = 5000.0 / q if q < 50 else 200.0 - 2.0 * q
    return [[int(min(255, max(1, (v * s + 50) // 100))) for v in t] for t in (_LUMA, _CHROMA)]


class _Coder:
    """Encodes one image (and a tile mosaic of it) at float qualities, and
    predicts the full image's size from the mosaic."""

    def __init__(self, rgb: np.ndarray, alpha: np.ndarray | None, fmt: str):
        if fmt == "JPEG" and alpha is not None:
            rgb, alpha = composite_on(rgb, alpha, (255, 255, 255)), None
        self.fmt = fmt
        self.rgb, self.alpha = rgb, alpha
        share = 1 / 12 if fmt == "JPEG" else 1 / 24  # WEBP samples cost more per pixel
        sample_rgb = _mosaic(rgb, share=share)
        sample_alpha = _mosaic(alpha, share=share) if alpha is not None else None
        self.exact = sample_rgb is rgb
        # the whole image as PIL only once it is needed: a 12 MP photo that is
        # downscaled without a full-size encode never needs it
        self._pil = to_pil(rgb, alpha) if self.exact else None
        self.sample = self._pil if self.exact else to_pil(sample_rgb, sample_alpha)
        self.ratio = (rgb.shape[0] * rgb.shape[1]) / (self.sample.size[0] * self.sample.size[1])
        self.prior = _prior(fmt, self.exact)
        self.sub = True  # JPEG 4:2:0 throughout a size search keeps the curve continuous
        self._sizes: dict[tuple[bool, float], int] = {}  # (4:2:0?, quality) -> fast sample bytes
        self._last: dict[float, bytes] = {}  # a small WEBP's latest sample encode, which is its full encode
        self.full_encodes = 0  # with the final settings

    def _save(self, img: Image.Image, q: float, *, fast: bool) -> bytes:
        buf = io.BytesIO()
        if self.fmt == "JPEG":
            # Pillow, not imageio.encode's OpenCV writer: a float quality needs tables of its own
            img.save(buf, "JPEG", qtables=_qtables(q), subsampling=2 if self.sub else 0,
                     optimize=not fast, progressive=not fast)
        else:
            # method 2: same sizes as 4 within ~3 % at a third of the time; the
            # sample uses it too, because method 0's size curve is not monotonic
            img.save(buf, "WEBP", quality=float(q), method=2)
        return buf.getvalue()

    def predict(self, q: float) -> float:
        """Full-size bytes at ``q`` as the fast encoder would write them (one
        sample encode per quality, remembered)."""
        key = (self.sub, q)
        if key not in self._sizes:
            data = self._save(self.sample, q, fast=True)
            self._sizes[key] = len(data)
            if self.exact and self.fmt != "JPEG":
                self._last = {q: data}
        return self._sizes[key] * self.ratio

    def quality_for(self, goal: float, lo: float, hi: float, *, tol: float = 0.012) -> float:
        """Highest quality in [lo, hi] whose ``predict`` is at most ``goal``.

        A bracketing secant search on log(size), on the sample: the size
        curve bends and steps (the rounded tables), so no fixed grid
        interpolates it well, but a few exact sample encodes pin it down.
        Qualities already measured are reused.
        """
        pts = sorted((q, n * self.ratio) for (sub, q), n in self._sizes.items() if sub == self.sub)
        for _ in range(8):
            below = max((p for p in pts if lo <= p[0] <= hi and p[1] <= goal), default=None)
            above = min((p for p in pts if lo <= p[0] <= hi and p[1] > goal), default=None)
            if below and (below[0] >= hi or below[1] >= (1 - tol) * goal):
                break
            if above and above[0] <= lo:
                break
            if below and above:
                if above[0] - below[0] < 0.15:
                    break  # a step in the curve: no quality in between lands nearer
                # secant, kept off the ends so that a step cannot make it creep
                t = np.log(goal / below[1]) / np.log(above[1] / below[1])
                q = below[0] + min(max(t, 0.25), 0.75) * (above[0] - below[0])
            elif below or above:
                # one side only: extrapolate with the local slope (the nearest
                # other point measured), within sane bounds
                edge = below or above
                near = min((p for p in pts if p is not edge), key=lambda p: abs(p[0] - edge[0]), default=None)
                slope = SLOPE if near is None else abs(np.log(edge[1] / near[1]) / (edge[0] - near[0]))
                step = np.log(goal / edge[1]) / min(max(slope, 0.008), 0.1)
                q = edge[0] + (max(step, 0.5) if below else min(step, -0.5))
            else:
                q = START_QUALITY
            q = round(min(max(q, lo), hi), 2)
            pts.append((q, self.predict(q)))
        below = max((p for p in pts if lo <= p[0] <= hi and p[1] <= goal), default=None)
        return below[0] if below else lo

    @property
    def pil(self) -> Image.Image:
        if self._pil is None:
            self._pil = to_pil(self.rgb, self.alpha)
        return self._pil

    def calibrate(self, q: float, density: float | None = None) -> tuple[float, float]:
        """Factor from ``predict`` to the real (optimised, progressive) full
        size near ``q``, and the density ratio it used.

        Two cheap measurements instead of a full progressive encode: the whole
        image with the fast encoder (how dense the mosaic is compared with the
        whole image; it drifts little with quality, so pass ``density`` back
        to reuse it), and the mosaic progressive (what progressive and
        optimised Huffman tables save over the fast encoder; this one drifts a
        few % over ten quality steps).
        """
        if self.exact or self.fmt != "JPEG":
            return self.prior, 1.0
        sample = self.predict(q) / self.ratio
        if density is None:
            density = len(self._save(self.pil, q, fast=True)) / (sample * self.ratio)
        sample_prog = len(self._save(self.sample, q, fast=False))
        return density * sample_prog / sample, density

    def full(self, q: float) -> bytes:
        self.full_encodes += 1
        if self.exact and self.fmt != "JPEG" and q in self._last:
            return self._last[q]  # a small WEBP: the sample encode was this very encode
        return self._save(self.pil, q, fast=False)


def keep_stream(stream: bytes, width: int, height: int, *, target_bytes: int | None = None,
                floor_bytes: int | None = None) -> Fitted | None:
    """An unchanged JPEG kept as its own stream (see
    :func:`enhancer.imageio.jpeg_without_metadata`): no second lossy encode,
    so no generation loss and no encode time. None when it is outside the
    byte window; then it has to be encoded again."""
    if (target_bytes is not None and len(stream) > target_bytes) or (floor_bytes and len(stream) < floor_bytes):
        return None
    return Fitted(stream, width, height, "JPEG", _stream_quality(stream), True, 0)


def _stream_quality(stream: bytes) -> int | None:
    """The IJG quality whose luma table is nearest the stream's (what
    ImageMagick reports); approximate for a camera's own tables."""
    try:
        table = Image.open(io.BytesIO(stream)).quantization.get(0)
    except Exception:  # noqa: BLE001 - only a report; the stream itself decoded fine
        return None
    if not table:
        return None
    scale = 100.0 * sum(table) / sum(_LUMA)  # order-free, so zigzag or natural alike
    q = (200.0 - scale) / 2.0 if scale <= 100.0 else 5000.0 / scale
    return int(min(100, max(1, round(q))))


def _prior(fmt: str, exact: bool) -> float:
    """Real over predicted size before anything is measured."""
    if fmt != "JPEG":
        return 1.0
    return CALIB_EXACT if exact else CALIB


def _mosaic(img: np.ndarray, *, tile: int = 128, share: float = 1 / 12, min_px: int = 1_200_000) -> np.ndarray:
    """Tiles spread evenly over the image, stitched; the image itself when small."""
    h, w = img.shape[:2]
    if h * w <= min_px or h < 2 * tile or w < 2 * tile:
        return img
    n = max(12, int(h * w * share / tile ** 2))
    gy = max(2, int(round(np.sqrt(n * h / w))))
    gx = max(2, int(round(n / gy)))
    ys = np.linspace(0, h - tile, gy).astype(int) // 16 * 16
    xs = np.linspace(0, w - tile, gx).astype(int) // 16 * 16
    rows = [np.concatenate([img[y:y + tile, x:x + tile] for x in xs], axis=1) for y in ys]
    return np.ascontiguousarray(np.concatenate(rows, axis=0))


def _search(coder: _Coder, target: int, qmin: float, qmax: float, *, good: float = GOOD,
            ) -> tuple[tuple[int, float, bytes] | None, float]:
    """Highest quality whose full encode fits ``target``; returns (best, calibration).

    ``best`` is None when even ``qmin`` does not fit (measured, or predicted
    by a clear margin: then no full encode is spent on it).
    """
    lo, hi = qmin, qmax + 0.01  # lo: known (or assumed) to fit; hi: known not to fit
    tried: set[float] = set()
    best: tuple[int, float, bytes] | None = None
    over: tuple[int, float] | None = None  # smallest encode known to be too big

    def solve(goal: float, calib: float, tol: float = 0.012) -> float:
        # a sample search stops within ``tol`` under its goal
        return coder.quality_for(goal / calib, lo, min(hi - 0.01, qmax), tol=tol)

    goal, tol = AIM * target, 0.012
    calib = coder.prior
    if not coder.exact and coder.fmt == "JPEG":
        # calibrate where the answer is, and again (the cheap half) while that moves it
        q = solve(goal, calib, 0.04)  # before calibrating, roughly
        if q <= qmin and coder.predict(qmin) * calib > MISS_FAR * target:
            return None, calib  # hopeless even uncalibrated: downscale without measuring the whole
        density = None
        for _ in range(3):
            calib, density = coder.calibrate(q, density)
            q_next = solve(goal, calib)
            moved, q = abs(q_next - q), q_next
            if moved <= 2:
                break
    # clearly too big even at the lowest quality: downscale without trying.
    # Uncalibrated (a small JPEG, or a WEBP mosaic) the prediction is rougher.
    exact_size = coder.exact and coder.fmt != "JPEG"  # the sample encode is the real one
    calibrated = exact_size or (not coder.exact and coder.fmt == "JPEG")
    # (a sample already known to fit at some quality answers that without encoding at qmin)
    fits = any(sub == coder.sub and q >= qmin and n * coder.ratio * calib <= target
               for (sub, q), n in coder._sizes.items())
    if not fits and coder.predict(qmin) * calib > (MISS if calibrated else MISS_ROUGH) * target:
        return None, calib
    for _ in range(MAX_FULL_ENCODES):
        if best is not None and over is not None:
            # bracketed by two real encodes: interpolate log(size) between them (secant)
            (s0, q0), (s1, q1) = best[:2], over
            t = (np.log(goal) - np.log(s0)) / max(1e-9, np.log(s1) - np.log(s0))
            q = round(q0 + min(max(t, 0.1), 0.9) * (q1 - q0), 2)
        else:
            q = solve(goal, calib, tol)
        if any(abs(q - t) < 0.05 for t in tried) or not (lo <= q < hi):
            if best is not None and best[0] >= FILL * target:
                break  # the curve says no quality in between fits better
            q = round((lo + min(hi, qmax)) / 2, 2)  # the curve is stuck: fall back to bisection
            if any(abs(q - t) < 0.05 for t in tried):
                break
        tried.add(q)
        data = coder.full(q)
        size = len(data)
        if size > target and (over is None or size < over[0]):
            over = (size, q)
        if size <= target:
            if best is None or size > best[0]:
                best = (size, q, data)
            lo = q
        else:
            hi = q
        if best and best[0] >= good * target:
            # at a low quality every byte shows: one more encode to fill the target
            if best[1] >= LOW_Q or best[0] >= FINE * target or coder.full_encodes > 1 or good < FILL:
                break
        if best and best[1] >= qmax:
            break
        if hi - lo < 0.3:
            break
        calib = size / max(1.0, coder.predict(q))
        # aim nearer the target once calibrated; a miss only costs one more encode
        # (the calibration now comes from a real encode nearby, so the sample
        # search can be finer too)
        goal, tol = (0.993 if size <= target else 0.978) * target, 0.005
    # JPEG's float quality leaves no jump worth a downscale: fewer pixels cost more
    # detail than the last quality step, so a bigger budget could look worse
    if (best is not None and best[0] < FILL * target and over is not None and good >= FILL
            and coder.fmt != "JPEG"):
        best = _shrink_a_little(coder, target, best, over)
    return best, calib


def _shrink_a_little(coder: _Coder, target: int, best, over):
    """The size curve jumps over the target between two close qualities (WEBP
    does this near 90): keep the higher quality and shave a few % of pixels."""
    f = (AIM * target / over[0]) ** (1 / 1.7)
    if f < 0.85:
        return best
    h, w = coder.rgb.shape[:2]
    size = (max(1, round(w * f)), max(1, round(h * f)))
    rgb = cv2.resize(coder.rgb, size, interpolation=cv2.INTER_AREA)
    alpha = cv2.resize(coder.alpha, size, interpolation=cv2.INTER_AREA) if coder.alpha is not None else None
    small = _Coder(rgb, alpha, coder.fmt)
    data = small.full(over[1])
    coder.full_encodes += 1
    if best[0] < len(data) <= target:
        return (len(data), over[1], data, f)
    return best


def _lossy(rgb, alpha, fmt, target, floor, good=GOOD) -> Fitted:
    scaled = 1.0
    encodes = 0
    qmin, qmax = MIN_QUALITY[fmt], MAX_QUALITY
    for _ in range(4):
        coder = _Coder(rgb, alpha, fmt)
        hq = DEFAULT_QUALITY[fmt]
        # A cap (not a budget): the default quality is kept when it fits. A budget is
        # spent: stopping at the default quality would give a generous target a worse
        # picture than the quality it can afford (and than ImageMagick's jpeg:extent).
        # The high quality can only fit when a middle one fits easily (the
        # search starts there anyway, so this costs nothing when it does not).
        coder.sub = True
        easy = good < FILL and coder.predict(START_QUALITY) * coder.prior <= 0.85 * target
        coder.sub = fmt != "JPEG" or rgb.shape[0] * rgb.shape[1] > FULL_CHROMA_MAX_PX  # (WEBP: no chroma choice)
        if easy and coder.predict(hq) * coder.prior <= 0.85 * target:
            data = coder.full(hq)  # the high-quality encode fits: no fill requirement
            if len(data) <= target:
                fitted = Fitted(data, rgb.shape[1], rgb.shape[0], fmt, round(hq), True,
                                encodes + coder.full_encodes, scaled=scaled)
                return _raise_to_floor(fitted, coder, target, floor) if floor else fitted
        coder.sub = True
        best, calib = _search(coder, target, qmin, qmax, good=good)
        encodes += coder.full_encodes
        if best is not None:
            size, q, data = best[:3]
            img = Image.open(io.BytesIO(data)) if len(best) > 3 else None
            w, h = img.size if img is not None else (rgb.shape[1], rgb.shape[0])
            fitted = Fitted(data, w, h, fmt, round(q), True, encodes,
                            floor_met=floor is None or size >= floor,
                            scaled=scaled * (best[3] if len(best) > 3 else 1.0))
            if floor and size < floor and img is None:
                # the budget is not even full at the top quality: full chroma where it is kept
                coder.sub = fmt != "JPEG" or rgb.shape[0] * rgb.shape[1] > FULL_CHROMA_MAX_PX
                fitted = _raise_to_floor(fitted, coder, target, floor)
            return fitted
        h, w = rgb.shape[:2]
        if max(h, w) <= MIN_SIDE:
            break
        # bytes scale ~ pixels^0.85 at a fixed quality (smaller images are denser in detail).
        # The scale is chosen for a middling quality, not the lowest: a scale that only
        # fits the lowest quality would lose to a slightly smaller one at a better
        # quality, so a bigger target could come out worse.
        need = target * 0.95 / (coder.predict(max(qmin, SCALED_QUALITY[fmt])) * calib)
        f = min(0.9, need ** (1 / 1.7))
        size = (max(1, round(w * f)), max(1, round(h * f)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA) if alpha is not None else None
        scaled *= f
    data = encode(rgb, alpha, fmt=fmt, quality=int(qmin))
    return Fitted(data, rgb.shape[1], rgb.shape[0], fmt, int(qmin), len(data) <= target, encodes + 1,
                  floor_met=floor is None, scaled=scaled)


def _raise_to_floor(fitted: Fitted, coder: _Coder, target: int | None, floor: int) -> Fitted:
    """Below a marketplace's byte floor: spend more quality (never past the ceiling)."""
    if len(fitted.data) >= floor:
        return fitted
    best = fitted
    for q in (96.0, 98.0, 100.0):
        data = coder.full(q)
        if target is not None and len(data) > target:
            break
        best = Fitted(data, fitted.width, fitted.height, fitted.format, round(q), True,
                      fitted.encodes + coder.full_encodes, floor_met=len(data) >= floor, scaled=fitted.scaled)
        if len(data) >= floor:
            return best
    if coder.fmt == "JPEG" and len(best.data) < floor:
        # last resort for a flat image: plain Huffman tables instead of
        # optimised ones cost ~5-10 % more bytes for the same pixels
        buf = io.BytesIO()
        coder.pil.save(buf, "JPEG", qtables=_qtables(100.0), subsampling=0, optimize=False)
        coder.full_encodes += 1
        data = buf.getvalue()
        if len(data) > len(best.data) and (target is None or len(data) <= target):
            best = Fitted(data, fitted.width, fitted.height, "JPEG", 100, True,
                          fitted.encodes + coder.full_encodes, floor_met=len(data) >= floor, scaled=fitted.scaled)
    return best


def _png(rgb, alpha, target, floor) -> Fitted:
    """Lossless first, then a 256-colour palette, then just enough downscale."""
    encodes = 0
    scaled = 1.0
    h, w = rgb.shape[:2]
    if target is not None:  # a tile sample says whether the lossless encode can fit, so we can skip it
        sample = _mosaic(rgb)
        ratio = (h * w) / (sample.shape[0] * sample.shape[1])
        pred = len(encode(sample, _mosaic(alpha) if alpha is not None else None, fmt="PNG", fast=True)) * ratio
    if target is None or pred <= 1.3 * target:
        data = encode(rgb, alpha, fmt="PNG")
        encodes += 1
        if target is None or len(data) <= target:
            return Fitted(data, w, h, "PNG", None, True, encodes,
                          floor_met=floor is None or len(data) >= floor)
    for _ in range(5):
        data = encode(rgb, alpha, fmt="PNG", palette=256)
        encodes += 1
        if len(data) <= target:
            return Fitted(data, rgb.shape[1], rgb.shape[0], "PNG", None, True, encodes,
                          floor_met=floor is None or len(data) >= floor, scaled=scaled)
        h, w = rgb.shape[:2]
        if max(h, w) <= MIN_SIDE:
            return Fitted(data, w, h, "PNG", None, False, encodes, floor_met=floor is None, scaled=scaled)
        f = min(0.92, (target * 0.95 / len(data)) ** 0.5)
        size = (max(1, round(w * f)), max(1, round(h * f)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA) if alpha is not None else None
        scaled *= f
    return Fitted(data, rgb.shape[1], rgb.shape[0], "PNG", None, len(data) <= target, encodes,
                  floor_met=floor is None, scaled=scaled)


def fit_to_size(rgb: np.ndarray, alpha: np.ndarray | None = None, *, fmt: str,
                target_bytes: int | None = None, floor_bytes: int | None = None,
                cap_only: bool = False) -> Fitted:
    """Encode as well as fits ``target_bytes``; best effort, never raises for a target.

    Parameters
    ----------
    rgb : ndarray
        (H, W, 3) uint8 sRGB image.
    alpha : ndarray, optional
        (H, W) uint8 alpha; JPEG puts the image on white.
    fmt : {"JPEG", "WEBP", "PNG"}
    target_bytes : int, optional
        Ceiling in bytes. The result is never larger. When the high-quality
        encode is larger, the result fills at least 90 % of it.
    floor_bytes : int, optional
        A marketplace's minimum file size: quality is raised toward it (never
        past ``target_bytes``); ``floor_met`` says whether it was reached.
    cap_only : bool
        ``target_bytes`` is only a cap (OPTIMIZE's "never bigger than the
        upload"), not a budget to fill: the first encode that fits is kept.

    Returns
    -------
    Fitted
        Bytes, final size, quality used and whether the target was met
        (False only when even a tiny image does not fit).

    Raises
    ------
    ValueError
        For an unknown format or a non-positive target.
    """
    fmt = fmt.upper()
    if fmt not in ("JPEG", "WEBP", "PNG"):
        raise ValueError(f"unsupported output format {fmt!r}; use JPEG, PNG or WEBP")
    if target_bytes is not None and target_bytes <= 0:
        raise ValueError(f"target_bytes must be positive, got {target_bytes}")
    if floor_bytes is not None and target_bytes is not None and floor_bytes > target_bytes:
        floor_bytes = None  # an impossible window: the ceiling wins
    if fmt == "PNG":
        return _png(rgb, alpha, target_bytes, floor_bytes)
    if target_bytes is None:
        q, px = DEFAULT_QUALITY[fmt], rgb.shape[0] * rgb.shape[1]
        data = encode(rgb, alpha, fmt=fmt, quality=round(q), subsampling=2 if px > FULL_CHROMA_MAX_PX else 0,
                      progressive=px <= PROGRESSIVE_MAX_PX)
        fitted = Fitted(data, rgb.shape[1], rgb.shape[0], fmt, round(q), True, 1)
        return _raise_to_floor(fitted, _Coder(rgb, alpha, fmt), None, floor_bytes) if floor_bytes else fitted
    return _lossy(rgb, alpha, fmt, target_bytes, floor_bytes, good=0.0 if cap_only else GOOD)
