"""The allocator tuning: a photo's big buffers come from the heap, which keeps them for the next photo."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from enhancer._alloc import _mallopt, _thp_mode

pytestmark = pytest.mark.skipif(_mallopt() is None, reason="needs glibc's mallopt (Linux with glibc)")

# Run in a fresh interpreter: in this one, other tests' freed blocks may serve any request from the heap.
_PROBE = """
import sys
import numpy as np
from enhancer._alloc import keep_freed_memory
if sys.argv[1] == "tuned":
    assert keep_freed_memory()
plane = np.empty(24 << 20, np.uint8)  # a 12 MP photo's grey plane: over glibc's default mmap ceiling
with open("/proc/self/maps") as maps:
    heap = [[int(x, 16) for x in line.split()[0].split("-")] for line in maps if line.rstrip().endswith("[heap]")]
print(any(lo <= plane.ctypes.data < hi for lo, hi in heap))
"""


def _probe(script: str, mode: str) -> str:
    """What ``script`` prints, run in a fresh interpreter: ``mode`` "tuned" tunes the allocator first."""
    out = subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    return out.stdout.strip()


@pytest.mark.parametrize("tuned, in_heap", [("tuned", "True"), ("default", "False")])
def test_a_photo_sized_block_comes_from_the_heap_once_tuned(tuned, in_heap):
    assert _probe(_PROBE, tuned) == in_heap


_HEAPS = """
import ctypes, os, sys, tempfile, threading
import numpy as np
from enhancer._alloc import keep_freed_memory
if sys.argv[1] == "tuned":
    assert keep_freed_memory()
ready = threading.Barrier(9)
def work():
    block = np.ones(1 << 16, np.uint8)  # a thread's own buffer, from the heap it is given
    ready.wait()
    ready.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
ready.wait()  # all eight hold a block now
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = ctypes.c_char_p, ctypes.c_char_p
libc.malloc_info.argtypes = ctypes.c_int, ctypes.c_void_p
libc.fclose.argtypes = (ctypes.c_void_p,)
path = os.path.join(tempfile.mkdtemp(), "heaps.xml")
fp = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, fp)
libc.fclose(fp)
ready.wait()
for t in threads:
    t.join()
print(open(path).read().count("<heap nr="))
"""


def test_the_threads_share_two_heaps_once_tuned():
    """Eight threads each holding a buffer: tuned, they share HEAPS heaps (memory one frees, the next
    reuses); by default glibc gives most of them a heap of its own."""
    from enhancer._alloc import HEAPS

    heaps = {mode: int(_probe(_HEAPS, mode)) for mode in ("tuned", "default")}
    assert heaps["tuned"] <= HEAPS, heaps
    assert heaps["default"] > HEAPS, heaps


_HAND_BACK = """
import sys
import numpy as np
from enhancer._alloc import hand_back, keep_freed_memory
assert keep_freed_memory()
def rss():
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS")) >> 10
blocks = [np.ones(4 << 20, np.uint8) for _ in range(40)]  # 160 MB of a step's buffers, from the heap
before = rss()
del blocks
kept = rss()  # freed, and kept for the next photo
hand_back()
print(before - kept, before - rss())
"""


def test_the_heap_keeps_freed_memory_until_it_is_handed_back():
    """Freed buffers stay with the tuned heap (the next photo's steps reuse them) until :func:`hand_back`
    returns them to the kernel, as the background network does before mapping its own block."""
    kept, handed = (int(x) for x in _probe(_HAND_BACK, "tuned").split())
    assert kept < 20, f"{kept} MiB went back on free"
    assert handed > 140, f"only {handed} MiB handed back"


# --- huge pages for the processes the app starts ------------------------------------------------------------

def test_on_huge_pages_adds_the_tunable_beside_others_and_keeps_a_set_choice(monkeypatch, tmp_path):
    from enhancer import _alloc

    mode = tmp_path / "enabled"
    mode.write_text("always [madvise] never\n")
    monkeypatch.setattr(_alloc, "THP_MODE", mode)
    assert _alloc.on_huge_pages({"A": "1"}) == {"A": "1", "GLIBC_TUNABLES": _alloc.HUGE_PAGES}
    assert _alloc.on_huge_pages({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"})["GLIBC_TUNABLES"] == \
        f"glibc.malloc.arena_max=2:{_alloc.HUGE_PAGES}"
    off = {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"}  # the operator's choice stands
    assert _alloc.on_huge_pages(off) == off
    mode.write_text("always madvise [never]\n")  # the kernel gives none: nothing to ask for
    assert _alloc.on_huge_pages({"A": "1"}) == {"A": "1"}
    monkeypatch.setattr(_alloc, "THP_MODE", tmp_path / "absent")  # no such kernel knob (not Linux)
    assert _alloc.on_huge_pages({"A": "1"}) == {"A": "1"}


_HUGE = """
block = bytearray(64 << 20)  # a 12 MP photo's buffer, from malloc (numpy asks for huge pages on its own)
for i in range(0, len(block), 4096):
    block[i] = 1
with open("/proc/self/smaps_rollup") as rollup:
    print(next(int(line.split()[1]) for line in rollup if line.startswith("AnonHugePages")))
"""


@pytest.mark.skipif("[madvise]" not in _thp_mode(),
                    reason="needs a kernel giving transparent huge pages on request (mode madvise)")
def test_a_process_started_on_huge_pages_maps_its_blocks_on_them():
    """Started with :func:`on_huge_pages`' environment, a process's C allocator puts a large block on huge
    pages; with the tunable off (and the kernel's madvise mode), none."""
    import os

    from enhancer._alloc import on_huge_pages

    def huge_kb(env):
        return int(subprocess.run([sys.executable, "-c", _HUGE], env=env, capture_output=True, text=True,
                                  check=True).stdout)

    plain = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    assert huge_kb(on_huge_pages(plain)) >= 32 << 10
    assert huge_kb({**plain, "GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"}) == 0
