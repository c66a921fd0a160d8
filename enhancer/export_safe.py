"""Spreadsheet exports that cannot run formulas: one neutraliser for every CSV and XLSX we write.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return (or their fullwidth forms, which spreadsheets also accept) is read as a
formula by Excel, LibreOffice and Google Sheets; a SKU or file name taken from
a manifest such as ``=HYPERLINK(...)`` would then run in the reader's
spreadsheet. Such cells get a leading ``'`` (OWASP's advice), which shows the
text as typed. Numbers are left as numbers.
"""
from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

_TRIGGERS = frozenset("=+-@\t\r\n\u2212")  # U+2212 MINUS SIGN is read as '-'
# Characters XLSX cannot store at all (openpyxl raises on them): dropped, not escaped.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value):
    """``value`` made inert for a spreadsheet: text that would start a formula gets a leading ``'``.

    >>> neutralise("=1+1"), neutralise("＝1+1"), neutralise(" @SUM(A1)"), neutralise(-3), neutralise("a-b")
    ("'=1+1", "'＝1+1", "' @SUM(A1)", -3, 'a-b')
    """
    if not isinstance(value, str) or not value:
        return value
    first = value.lstrip(" ")[:1]  # spreadsheets skip leading spaces before a formula
    if first and (first in _TRIGGERS or unicodedata.normalize("NFKC", first) in _TRIGGERS):
        return "'" + value
    return value


def safe_rows(rows: Iterable[Mapping]) -> list[dict]:
    """Every text cell of ``rows`` neutralised (see :func:`neutralise`)."""
    return [{k: neutralise(v) for k, v in r.items()} for r in rows]


def csv_bytes(rows: Iterable[Mapping], columns: Sequence[str] | None = None) -> bytes:
    """UTF-8 CSV of ``rows`` (in ``columns`` order when given) with every cell neutralised.

    RFC 4180 line ends (``\\r\\n``), so a cell holding a bare ``\\r`` or ``\\n`` is quoted
    and cannot start a new row (pandas' ``to_csv`` leaves a bare ``\\r`` unquoted).
    """
    rows = safe_rows(rows)
    cols = list(columns) if columns is not None else list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(cols)
    w.writerows([_cell(r.get(c)) for c in cols] for r in rows)
    return buf.getvalue().encode("utf-8")


def _cell(v):
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else v


def xlsx_bytes(rows: Iterable[Mapping], columns: Sequence[str] | None = None, *, sheet: str = "items") -> bytes:
    """An Excel workbook of ``rows`` with every cell neutralised and stored as a value, never a formula."""
    import pandas as pd

    clean = [{k: _XLSX_ILLEGAL.sub("", v) if isinstance(v, str) else v for k, v in r.items()}
             for r in safe_rows(rows)]
    buf = io.BytesIO()
    pd.DataFrame(clean, columns=columns).to_excel(buf, index=False, sheet_name=sheet, engine="openpyxl")
    return buf.getvalue()
