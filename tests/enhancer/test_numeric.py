import numpy as np
import pytest

from enhancer._numeric import percentile


@pytest.mark.parametrize("q", [0, 0.01, 0.5, 25, 50, 90, 95, 99.5, 100])
@pytest.mark.parametrize("n", [1, 2, 7, 1000, 23_457])
def test_percentile_matches_numpy(q, n):
    rng = np.random.default_rng(n)
    for a in (rng.normal(size=n).astype(np.float32), rng.integers(0, 256, n).astype(np.uint8)):
        assert percentile(a, q) == pytest.approx(float(np.percentile(a, q)), rel=1e-6, abs=1e-6)


def test_percentile_of_2d_and_empty():
    a = np.arange(12.0).reshape(3, 4)
    assert percentile(a, 50) == np.percentile(a, 50)
    with pytest.raises(ValueError):
        percentile(np.array([]), 50)
