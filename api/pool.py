"""A bounded pool for CPU work: ``workers`` enhancements at once, ``queue`` more waiting, then 429.

The event loop never runs an enhancement: it hands the work to the pool and
awaits it, so listing and health answer while uploads run. Past the bound a
request is refused at once with ``Retry-After`` (how long the queue ahead
should take), instead of piling up until clients time out.
"""
from __future__ import annotations

import asyncio
import math
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor


class Saturated(Exception):
    """The pool and its queue are full; retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"busy: retry after {retry_after} s")
        self.retry_after = retry_after


class CpuPool:
    def __init__(self, workers: int, queue: int):
        self.workers, self.queue = max(1, workers), max(0, queue)
        self._ex = ThreadPoolExecutor(self.workers, thread_name_prefix="api-cpu")
        self._lock = threading.Lock()
        self._pending = 0  # running + waiting
        self._avg_s = 1.0  # moving average of one task's duration, for Retry-After

    @property
    def pending(self) -> int:
        return self._pending

    def retry_after(self) -> int:
        waves = (self._pending + 1) / self.workers
        return max(1, min(60, math.ceil(waves * self._avg_s)))

    async def run(self, fn, *args, **kwargs):
        """Run ``fn(*args, **kwargs)`` on the pool and return its result (Saturated when full)."""
        with self._lock:
            if self._pending >= self.workers + self.queue:
                raise Saturated(self.retry_after())
            self._pending += 1
        try:
            fut: Future = self._ex.submit(self._timed, fn, args, kwargs)
        except BaseException:
            self._done(None)
            raise
        # the slot is freed when the work ends, not when the client goes away: a cancelled
        # request whose work already started still occupies a worker until it finishes
        fut.add_done_callback(self._done)
        return await asyncio.wrap_future(fut)

    def _timed(self, fn, args, kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self._avg_s = 0.8 * self._avg_s + 0.2 * (time.perf_counter() - t0)

    def _done(self, _fut) -> None:
        with self._lock:
            self._pending -= 1

    def shutdown(self) -> None:
        self._ex.shutdown(wait=False, cancel_futures=True)
