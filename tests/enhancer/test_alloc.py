"""The allocator tuning: heap_only takes big blocks from the heap, and only within its block."""
from __future__ import annotations

import numpy as np
import pytest

from enhancer._alloc import _mallopt, give_back_freed_memory, heap_only

pytestmark = pytest.mark.skipif(_mallopt() is None, reason="needs glibc's mallopt (Linux with glibc)")


def _in_heap(address: int) -> bool:
    with open("/proc/self/maps") as maps:
        for line in maps:
            if line.rstrip().endswith("[heap]"):
                lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                if lo <= address < hi:
                    return True
    return False


def test_a_big_block_comes_from_the_heap_only_inside_heap_only():
    with heap_only():
        inside = np.empty(64 << 20, np.uint8)  # over glibc's 32 MB mmap ceiling
    outside = np.empty(64 << 20, np.uint8)
    assert _in_heap(inside.ctypes.data)
    assert not _in_heap(outside.ctypes.data)  # mapped fresh, as glibc does by default
    del inside, outside
    assert give_back_freed_memory()
