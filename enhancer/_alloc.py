"""The C allocator, tuned for a process that enhances photo after photo."""
from __future__ import annotations

import contextlib
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
    mallopt = _mallopt()
    if mallopt is None:
        return False
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    ok = mallopt(m_mmap_threshold, 32 << 20)  # glibc's ceiling: a 12 MP photo's RGB planes stay mapped
    ok &= mallopt(m_trim_threshold, 256 << 20)
    ok &= mallopt(m_top_pad, 16 << 20)
    return bool(ok)


@contextlib.contextmanager
def heap_only():
    """Within the block, glibc takes even the largest blocks from the heap instead of fresh maps.

    A network's layers each allocate and free their temporaries; those above
    glibc's 32 MB ceiling are mapped fresh and faulted in page by page, where
    from the heap the next layer reuses what the last one freed. For
    U^2-Net-p on ONNX Runtime, a 12 MP photo through BACKGROUND_REMOVE (two
    passes): about 85 000 -> 50 000 page faults and 830 -> 680 ms on 2 AMD
    EPYC cores (five runs each, one process). Pair it
    with :func:`give_back_freed_memory` after the block: the heap keeps what
    it was given. A no-op without glibc's ``mallopt``.
    """
    mallopt = _mallopt()
    m_mmap_max = -4
    if mallopt is not None:
        mallopt(m_mmap_max, 0)
    try:
        yield
    finally:
        if mallopt is not None:
            mallopt(m_mmap_max, 65536)  # glibc's default


def _mallopt():
    return _libc("mallopt", (ctypes.c_int, ctypes.c_int), ctypes.c_int)


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


def _malloc_trim():
    return _libc("malloc_trim", (ctypes.c_size_t,), ctypes.c_int)


@functools.cache
def _libc(name: str, argtypes: tuple, restype):
    """The C library's function ``name`` with its signature set, or None where it has none."""
    try:
        fn = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = argtypes, restype
    return fn
