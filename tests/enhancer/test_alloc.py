"""The allocator tuning: a photo's big buffers come from the heap, which keeps them for the next photo."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from enhancer._alloc import _mallopt

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
