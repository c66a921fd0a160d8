"""Native thread pools, set for a process that enhances photo after photo."""
from __future__ import annotations

import functools


@functools.cache
def one_blas_thread() -> bool:
    """Run numpy's BLAS on the calling thread only (process-wide; once).

    Every BLAS call here is small: a backdrop's quadratic fit over 6 000
    border pixels, 3 x 3 colour covariances. OpenBLAS still splits the
    larger of them over all cores, and then its idle workers spin, waiting
    for more, for about a tenth of a second. The background network's pass
    right after the backdrop's fit ran with one of the two cores taken by
    that spin: at 224 px it took 165-200 ms instead of 120-140, and the studio
    photo's BACKGROUND_REMOVE (benchmarks/speed.py --studio) 580 -> 540 ms.
    OpenCV and ONNX Runtime keep their own pools, which this leaves alone.
    threadpoolctl finds the BLAS that numpy loaded, whichever build it is.
    Returns False when no BLAS library was found to limit.
    """
    from threadpoolctl import threadpool_limits  # noqa: PLC0415

    limits = threadpool_limits(limits=1, user_api="blas")
    return bool(limits.get_original_num_threads().get("blas"))
