"""Without Chromium the browser tests skip locally but fail in CI (like the MariaDB/S3 fixtures)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("ci, outcome", [("", "skipped"), ("true", "failed")])
def test_missing_chromium(ci, outcome, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PIXEL_LAB_REQUIRE_SERVICES")}
    env.update(PIXEL_LAB_CHROMIUM=str(tmp_path / "no-chromium"), CI=ci)
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "tests/browser/test_dashboard_flow.py"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    tail = out.stdout.strip().splitlines()[-1]
    assert f"1 {outcome}" in tail or (outcome == "failed" and "1 error" in tail), out.stdout[-1500:]
    assert "Chromium not found" in out.stdout
