"""The allocator tuning: heap_only takes big blocks from the heap, and only within its block."""
from __future__ import annotations

import numpy as np
import pytest

from enhancer._alloc import _mallopt, give_back_freed_memory, heap_only, keep_freed_memory

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
    keep_freed_memory()  # as a worker runs: the heap keeps up to 256 MB it freed
    with heap_only():
        churn = np.ones(100 << 20, np.uint8)  # an earlier photo's buffers, freed into the heap
        del churn
        inside = np.empty(64 << 20, np.uint8)  # over glibc's 32 MB mmap ceiling
    # larger than anything the heap can have kept free: from the heap only if mapping were still off
    outside = np.empty(512 << 20, np.uint8)  # (never touched: no memory is used)
    assert _in_heap(inside.ctypes.data)
    assert not _in_heap(outside.ctypes.data)
    del inside, outside
    assert give_back_freed_memory()
