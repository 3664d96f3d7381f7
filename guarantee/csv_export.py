"""Every CSV the service produces is written here, so that none can carry a spreadsheet formula.

A spreadsheet opening a CSV runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a
formula: a regulation titled ``=HYPERLINK("http://evil.example","x")`` would become a link, or
worse, on the computer of whoever opened the download. Following OWASP's advice on CSV
injection (and ASVS 5.0 1.2.10):

- A text cell is neutralised with a leading single quote (``'=HYPERLINK(...)``) when it begins
  with ``=``, ``+``, ``-`` or ``@`` (or their full-width forms, which some spreadsheets read as
  the same), also after leading spaces, tabs or line breaks (some import settings trim them
  first), or when it begins with a tab, a carriage return, a line feed or a NUL.
- A number (``int``, ``float``, ``Decimal``, never ``bool``) is written as it is: ``-3`` stays
  the number -3, which a spreadsheet reads as a number, not a formula. Only text can carry one.
- Every text cell is quoted, numbers are not: a spreadsheet that splits on ``;`` or a tab (as
  many do outside the English-speaking world) cannot cut a text cell in two and start a new
  cell with a formula, and the file says which cells are numbers.

Dates are written as ISO 8601 text, ``None`` as an empty cell. Lines end with CRLF (RFC 4180).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

# Bump whenever the same rows would be written as different bytes: it is part of the ETag of
# every CSV a cache may keep, so that no cache goes on serving the bytes of an older writer.
FORMAT = 2

FORMULA_STARTS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")  # and their full-width forms
CONTROL_STARTS = frozenset("\t\r\n\0")

Cell = str | int | float | Decimal | date | None


def cell(value: Cell) -> str | int | float | Decimal:
    """A value as it is written: a number as it is, anything else as text a spreadsheet will
    not run as a formula."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    text = "" if value is None else value.isoformat() if isinstance(value, date) else str(value)
    if text[:1] in CONTROL_STARTS or text.lstrip()[:1] in FORMULA_STARTS:
        return "'" + text
    return text


def write(rows: Iterable[Iterable[Cell]]) -> str:
    """The rows as one CSV document."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerows([cell(value) for value in row] for row in rows)
    return out.getvalue()
