"""The C allocator, tuned for a process that enhances photo after photo."""
from __future__ import annotations

import ctypes
import functools

HEAPS = 2  # malloc arenas the process's threads share


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
    And its threads (OpenCV's, the network's) share two heaps instead of one
    each (glibc's default: up to 8 per core): memory a thread freed is there
    for the next to reuse rather than kept in a heap of its own. A process
    running every mode on 12 MP photos peaked at 464 MiB, now 417
    (benchmarks/speed.py --one-process).
    Returns False where the C library has no ``mallopt`` (musl, macOS):
    nothing to tune there.
    """
    mallopt = _mallopt()
    if mallopt is None:
        return False
    m_trim_threshold, m_top_pad, m_mmap_threshold, m_arena_max = -1, -2, -3, -8
    ok = mallopt(m_mmap_threshold, 32 << 20)  # glibc's ceiling: a 12 MP photo's RGB planes stay mapped
    ok &= mallopt(m_trim_threshold, 256 << 20)
    ok &= mallopt(m_top_pad, 16 << 20)
    ok &= mallopt(m_arena_max, HEAPS)
    return bool(ok)


def hand_back() -> None:
    """Hand the heap's free memory back to the kernel (glibc's ``malloc_trim``; nothing elsewhere).

    For a step about to map a large block of its own (the background
    network's laid-out pass) beside what :func:`keep_freed_memory` keeps.
    """
    trim = _libc_fn("malloc_trim", (ctypes.c_size_t,))
    if trim is not None:
        trim(0)


def _mallopt():
    """The C library's ``mallopt`` with its signature set, or None where it has none."""
    return _libc_fn("mallopt", (ctypes.c_int, ctypes.c_int))


@functools.cache
def _libc_fn(name: str, argtypes: tuple):
    """The C library's function ``name`` (returning an int) with its signature set, or None where it has
    none."""
    try:
        fn = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = argtypes, ctypes.c_int
    return fn
