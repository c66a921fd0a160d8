"""Insights charts in AppTest: the histogram in numeric order, processing time visible with one day."""
from __future__ import annotations

import json


def _charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def _x(spec: dict) -> dict:
    enc = spec.get("encoding") or spec["layer"][0]["encoding"]
    return enc["x"]


def test_histogram_keeps_numeric_order_and_one_day_of_times_shows(open_page, seeded):
    at = open_page("insights")
    assert not at.exception
    specs = _charts(at)
    hist = next(s for s in specs if "reduction" in json.dumps(_x(s)))
    assert _x(hist).get("sort", "default") is None  # data order: -50 .. 100, not text order
    # seeded results are all from today: one bar per mode instead of an empty line chart
    assert "mode" in json.dumps(_x(specs[-1]))  # modes along x: bars, not a line over a single day
    assert any("one day of data" in m.value for m in at.markdown)
