"""numpy's BLAS runs on one thread in a process that enhances photos: its idle workers spin and take a core
from the background network's pass."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Run in a fresh interpreter: in this one, an earlier test may already have set the limit.
_PROBE = """
import io, sys
import numpy as np
from PIL import Image
from threadpoolctl import threadpool_info

def blas_threads():
    return sorted({p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"})

before = blas_threads()
if sys.argv[1] == "enhance":
    import enhancer
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)).save(buf, "JPEG")
    enhancer.enhance(buf.getvalue(), "AUTO")
else:
    from enhancer.steps._saliency import saliency
    saliency(np.zeros((64, 64, 3), np.uint8), side=64)
print(before, blas_threads())
"""


def _probe(how: str) -> tuple[str, str]:
    """BLAS's thread counts in a fresh interpreter before and after ``how`` (with BLAS's own defaults)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", _PROBE, how], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2], env=env)
    before, after = out.stdout.strip().split("] [")
    return before + "]", "[" + after


def test_enhancing_a_photo_keeps_numpys_blas_on_one_thread():
    assert _probe("enhance")[1] == "[1]"


def test_loading_the_background_network_keeps_numpys_blas_on_one_thread():
    assert _probe("network")[1] == "[1]"


def test_blas_starts_on_every_core_so_the_limit_is_what_the_tests_above_see():
    if (os.cpu_count() or 1) == 1:
        pytest.skip("one core: BLAS has one thread anyway")
    before, _ = _probe("enhance")
    assert before != "[1]"
