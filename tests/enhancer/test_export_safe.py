"""The one formula neutraliser: every CSV/XLSX writer goes through it; read the files back."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from enhancer.export_safe import csv_bytes, neutralise, xlsx_bytes

DANGEROUS = ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "＝1+1", "＋1", "－1", "＠x", " =1", "−1",
             '=HYPERLINK("http://evil","click")']
SAFE = ["a=b", "SKU-1", "", "1-2", "x@y"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_formula_starts_get_a_quote(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", SAFE + [None, -3, 2.5, True])
def test_other_values_are_untouched(value):
    assert neutralise(value) == value


def test_csv_and_xlsx_read_back_as_text():
    rows = [{"sku": t, "n": -i} for i, t in enumerate(DANGEROUS)]
    back = list(csv.DictReader(io.StringIO(csv_bytes(rows, ["sku", "n"]).decode(), newline="")))
    assert [r["sku"] for r in back] == ["'" + t for t in DANGEROUS]
    assert [r["n"] for r in back] == [str(-i) for i in range(len(DANGEROUS))]  # numbers stay numbers
    ws = load_workbook(io.BytesIO(xlsx_bytes(rows + [{"sku": "bell\x07", "n": 0}], ["sku", "n"]))).active
    cells = [ws.cell(r, 1) for r in range(2, ws.max_row + 1)]
    assert all(c.data_type == "s" for c in cells)  # no formula cell at all
    # XML stores a bare carriage return as a line feed
    assert [c.value for c in cells[:-1]] == ["'" + t.replace("\r", "\n") for t in DANGEROUS]
    assert cells[-1].value == "bell"  # a control character XLSX cannot hold is dropped, not fatal
