"""Full-resolution passes of the steps: a chain of OpenCV calls run band by
band on all cores.

At 12 MP every float plane is 48 MB, so a chain of OpenCV calls over the
whole image streams each plane through memory several times, on one core
(most arithmetic in OpenCV is single-threaded). Done in bands of a few dozen
rows the intermediates stay in cache, and bands run in parallel threads
(OpenCV releases the GIL).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

_WORKERS = max(1, min(4, os.cpu_count() or 1))
_POOL = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="pixel-lab-rows")
#: Rows per band: a 4000-px float row is 16 KB, so a band's planes fit in L2.
BAND_ROWS = 64


def for_each_band(height: int, fn: Callable[[int, int], None], *, rows: int = BAND_ROWS) -> None:
    """Call ``fn(r0, r1)`` for bands of rows covering ``[0, height)``, in parallel.

    ``fn`` writes its band of the result itself (bands never overlap).
    """
    bands = [(r0, min(height, r0 + rows)) for r0 in range(0, height, rows)]
    if len(bands) <= 1 or _WORKERS == 1:
        for r0, r1 in bands:
            fn(r0, r1)
        return
    for fut in [_POOL.submit(fn, r0, r1) for r0, r1 in bands]:
        fut.result()
