"""The C allocator, tuned for a process that enhances photo after photo."""
from __future__ import annotations

import ctypes
import functools
from pathlib import Path

HEAPS = 2  # malloc arenas the process's threads share
HUGE_PAGES = "glibc.malloc.hugetlb=1"  # glibc >= 2.35: its mapped blocks asked to be transparent huge pages
THP_MODE = Path("/sys/kernel/mm/transparent_hugepage/enabled")


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


def on_huge_pages(env: dict[str, str]) -> dict[str, str]:
    """``env`` for a process to start, its C allocator asking for transparent huge pages where it helps.

    The kernel faults a fresh mapping in 4 KB page by page; a 12 MP photo's
    buffers (OpenCV's temporaries, the codecs', the background network's
    laid-out block, which is handed back after each pass) are tens of
    thousands of faults. Where the kernel gives huge pages only on request
    (``madvise``, Debian's and Ubuntu's default), glibc's tunable makes it
    ask for every block it maps: measured with benchmarks/speed.py (12 MP,
    2 cores), assess 54 -> 39 ms, AUTO 66 -> 51, BACKGROUND_REMOVE on the
    portrait 1101 -> 913 and on products on scenes (``--scenes 30``) a
    median of 424 -> 385 ms, for a peak 7-22 MiB higher. glibc reads its
    tunables when a program starts, so this is for processes started from
    here (the bulk runner's pool); the app and the workers are started with
    it by their command line (README, "Production: MySQL and S3"). ``env`` is
    returned as it is where the kernel has no huge pages (or never gives
    them), and where ``GLIBC_TUNABLES`` already says (``hugetlb=0``: off).
    Other C libraries ignore the variable.
    """
    tunables = env.get("GLIBC_TUNABLES", "")
    if "glibc.malloc.hugetlb" in tunables or "[never]" in _thp_mode():
        return env
    return {**env, "GLIBC_TUNABLES": f"{tunables}:{HUGE_PAGES}" if tunables else HUGE_PAGES}


def _thp_mode() -> str:
    """The kernel's transparent huge page mode (``always [madvise] never``), or "[never]" where it has
    none."""
    try:
        return THP_MODE.read_text()
    except OSError:
        return "[never]"


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
