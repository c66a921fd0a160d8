"""The allocator tuning: a photo's big buffers come from the heap, which keeps them for the next photo."""
from __future__ import annotations

import numpy as np
import pytest

from enhancer._alloc import _mallopt, keep_freed_memory

pytestmark = pytest.mark.skipif(_mallopt() is None, reason="needs glibc's mallopt (Linux with glibc)")


def _in_heap(address: int) -> bool:
    with open("/proc/self/maps") as maps:
        for line in maps:
            if line.rstrip().endswith("[heap]"):
                lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                if lo <= address < hi:
                    return True
    return False


def test_a_photo_sized_block_comes_from_the_heap_once_tuned():
    assert keep_freed_memory()
    plane = np.empty(24 << 20, np.uint8)  # a 12 MP photo's grey plane, 2x glibc's default mmap ceiling
    # above the tuned 32 MB ceiling blocks are still mapped apart (and handed back when freed)
    huge = np.empty(64 << 20, np.uint8)  # (never touched: no memory is used)
    assert _in_heap(plane.ctypes.data)
    assert not _in_heap(huge.ctypes.data)
