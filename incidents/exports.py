"""CSV exports: every cell of every export goes through here, so no cell runs as a formula.

Spreadsheets run a cell that starts with = + - @ (and some a tab or carriage return) as a
formula ("CSV injection"). A plain prefix on the cell is not enough: German Excel opens a comma
separated file by splitting on `;`, so the text after a `;` inside a title becomes a cell of its
own; other importers split on `,` or tabs, and some trim leading spaces. The rule here: wherever
a fragment starts (the cell's start, or after any of ; , tab CR LF), optionally after spaces
and quotes (which a split on another separator leaves unbalanced), with one of the trigger
characters, a `'` goes in front of that character. Whatever separator an importer uses, every
cell it makes then starts with text (a `'` shows as text in Excel and
LibreOffice). Negative numbers are marked too ("'-12.5", shown as text): when a line is split on
another separator, "-1" and the next cell become one cell "-1,..." that Excel would evaluate;
no export of ours writes negative numbers.
"""

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_TRIGGERS = "=+-@\t\r"
_FRAGMENT_START = re.compile(r"(?:^|(?<=[;,\t\r\n]))([ \"]*)([=+\-@\t\r])")


def csv_cell(value: Any) -> str:
    """One cell as text that no spreadsheet runs as a formula, however it splits the line."""
    text = "" if value is None else str(value)
    return _FRAGMENT_START.sub(lambda m: f"{m[1]}'{m[2]}", text)


def csv_write(stream, rows: Iterable[Iterable[Any]]) -> None:
    """Write rows to a text stream (a file or an HttpResponse), every cell through csv_cell."""
    writer = csv.writer(stream)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
