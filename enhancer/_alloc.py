"""The C allocator, tuned for a process that enhances photo after photo."""
from __future__ import annotations

import ctypes
import functools


@functools.cache
def keep_freed_memory() -> bool:
    """Keep memory one photo freed for the next (glibc only; process-wide; once).

    By default glibc maps each block of more than 128 KB-32 MB freshly from the
    kernel and hands it back when freed, so every photo's buffers (OpenCV's and
    the codecs' temporaries above all) are new pages the kernel must fault in
    and zero: in a pool worker about 4 300 page faults and 8-11 ms of system
    time per 2 MP photo (benchmarks/bulk.py), and about 20 000 faults and
    50-100 ms per dark, noisy 12 MP photo in AUTO (benchmarks/speed.py).
    Tuned, a process keeps what it freed (up to 256 MB beyond its peak, then
    it trims), so its memory stays bounded by the largest photo it has met.
    Returns False where the C library has no ``mallopt`` (musl, macOS):
    nothing to tune there.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    ok = mallopt(m_mmap_threshold, 32 << 20)  # glibc's ceiling: a 12 MP photo's RGB planes stay mapped
    ok &= mallopt(m_trim_threshold, 256 << 20)
    ok &= mallopt(m_top_pad, 16 << 20)
    return bool(ok)


def give_back_freed_memory() -> bool:
    """Return the memory freed so far to the kernel (glibc ``malloc_trim``; process-wide).

    For the rare big, short-lived working set that the next photo will not
    reuse: the saliency network's ~200 MB of layer buffers would otherwise
    stay in the heap :func:`keep_freed_memory` tunes to keep, and sit under
    the next full-resolution step's own buffers. Returns False where the C
    library has no ``malloc_trim``.
    """
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False


@functools.cache
def _malloc_trim():
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = (ctypes.c_size_t,), ctypes.c_int
    return trim
