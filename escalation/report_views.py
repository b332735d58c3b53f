"""The monthly SLA report per customer, as HTML, CSV and PDF (GET only; reads through
`escalation.reports`).

Who may read: escalation managers (and superusers) and executives every customer's report; a
customer contact only their own organisation's (any other is a 404, as if it did not exist);
responders and everybody else get a 403; anonymous users log in first. A month that does not
exist or has not begun, or an unknown customer, is a 404.

CSV format: comma-separated, UTF-8 with a byte order mark (so Excel detects the encoding), one
row per incident x contract with the HTML table's columns, then one totals row per contract.
Numbers use a decimal point and no grouping, times are ISO 8601 with offset in the viewer's time
zone: one file that programs and spreadsheets read alike. In German Excel, open it through
Data > From Text/CSV (a double click splits on the locale's list separator, `;`). Text cells that
start with = + - @ get a leading apostrophe, so a spreadsheet never runs them as formulas.
"""

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path, re_path, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from incidents.exports import csv_write
from incidents.models import Customer, Priority
from incidents.pdf import render_pdf
from incidents.presentation import customer_titles
from incidents.selectors import role_of

from . import reports
from .dashboard import selectors as dashboard_selectors
from .models import Target
from .sla import TARGET_ORDER

TARGET_KINDS = sorted(Target.values, key=lambda t: TARGET_ORDER.get(t, 9))
STATUS_LABELS = {
    reports.MET: gettext_lazy("met"),
    reports.MISSED: gettext_lazy("missed"),
    reports.RUNNING: gettext_lazy("running"),
}
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


# --- Who may read which customer's report ------------------------------------------------------


def _viewer(request) -> str:
    """'manager', 'executive' or 'customer'; PermissionDenied (403) for everybody else."""
    prefetch_related_objects([request.user], "groups")  # role_of reads them, once
    if role_of(request.user) == "customer":
        return "customer"
    role = dashboard_selectors.viewer_role(request.user)  # managers/superusers and executives
    if not role:
        raise PermissionDenied
    return role


def _customers_for(request, role: str):
    if role == "customer":
        return Customer.objects.filter(pk=request.user.customer_id)
    return Customer.objects.all()


def _load(request, slug: str, year: str, month: str) -> tuple[str, reports.SlaReport]:
    role = _viewer(request)
    customer = get_object_or_404(_customers_for(request, role), slug=slug)
    try:
        begun = _begun(customer, int(year), int(month))
    except (reports.InvalidMonth, ValueError) as exc:
        raise Http404(_("There is no such month.")) from exc
    if not begun:
        raise Http404(_("This month has not begun yet."))
    report = reports.sla_month_report(customer=customer, year=int(year), month=int(month))
    if role == "customer":
        report = _as_customer_reads(report, customer_id=request.user.customer_id)
    return role, report


def _as_customer_reads(report: reports.SlaReport, *, customer_id: int) -> reports.SlaReport:
    """A customer contact's report (HTML, CSV, PDF alike) names each incident as customers read
    it (incidents.presentation: its public title, else a neutral name; never the internal one)."""
    language = "en" if (get_language() or "").startswith("en") else "de"
    ids = [line.incident_id for section in report.contracts for line in section.incidents]
    titles = customer_titles(ids, language=language, customer_id=customer_id)
    return replace(
        report,
        contracts=tuple(
            replace(
                section,
                incidents=tuple(
                    replace(line, title=titles.get(line.incident_id, ""))
                    for line in section.incidents
                ),
            )
            for section in report.contracts
        ),
    )


def _begun(customer: Customer, year: int, month: int) -> bool:
    """Whether the month has begun where the customer is (the report's own month bounds): the
    one rule for the report's URL and the form that leads there. InvalidMonth if no such month."""
    start, _end = reports.month_bounds(reports.zone_of(customer), year, month)
    return start <= timezone.now()


# --- Presentation: amounts in the viewer's language, durations, status labels -------------------


def money_text(amount: Decimal, currency: str) -> str:
    """An amount with its currency, as the active language writes it: 1.234,56 € / €1,234.56."""
    number = number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)
    symbol = CURRENCY_SYMBOLS.get(currency, currency)
    if (get_language() or "").startswith("en"):
        return f"{symbol}{number}" if symbol != currency else f"{symbol}\u00a0{number}"
    return f"{number}\u00a0{symbol}"


def percent_text(value: Decimal | None) -> str:
    if value is None:
        return "–"
    return f"{number_format(value, decimal_pos=3, use_l10n=True)}\u00a0%"


def duration_text(seconds: float) -> str:
    """Service time as h:mm:ss (hours may exceed 24)."""
    whole = max(0, int(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def priority_label(priority: int | None) -> str:
    return Priority(priority).label if priority in Priority.values else "–"


def _target_cell(line: reports.TargetLine | None) -> dict | None:
    if line is None:
        return None
    return {
        "status": line.status,
        "label": STATUS_LABELS[line.status],
        "elapsed": duration_text(line.elapsed_seconds),
        "target": duration_text(line.target_seconds),
        "paused": line.paused,
    }


def _section(section: reports.ContractSection) -> dict:
    def money(amount: Decimal) -> str:
        return money_text(amount, section.currency)

    return {
        "section": section,
        "monthly_fee": money(section.monthly_fee),
        "credits_sum": money(section.credits_sum),
        "credits_owed": money(section.credits_owed),
        "month_cap": money(section.month_cap) if section.month_cap is not None else None,
        "rows": [
            {
                "line": line,
                "priority": priority_label(line.priority),
                "cells": [_target_cell(line.target(kind)) for kind in TARGET_KINDS],
                "credit": money(line.credit),
                "credit_uncapped": money(line.credit_uncapped),
            }
            for line in section.incidents
        ],
        "priorities": [
            {
                "priority": priority_label(p.priority),
                "incidents": p.incidents,
                "counts": [p.count(kind) for kind in TARGET_KINDS],
            }
            for p in section.priorities
        ],
        "availability": [
            {
                "service": a,
                "service_time": duration_text(a.service_seconds),
                "downtime": duration_text(a.downtime_seconds),
                "percent": percent_text(a.percent),
            }
            for a in section.availability
        ],
    }


def _context(request, role: str, report: reports.SlaReport) -> dict:
    slug, year, month = report.customer.slug, report.year, report.month
    args = [slug, f"{year:04d}", f"{month:02d}"]
    context = {
        "report": report,
        "role": role,
        "month_date": report.first_day,
        "target_labels": [Target(kind).label for kind in TARGET_KINDS],
        "sections": [_section(s) for s in report.contracts],
        "totals": [
            {
                "currency": t.currency,
                "credits_sum": money_text(t.credits_sum, t.currency),
                "credits_owed": money_text(t.credits_owed, t.currency),
            }
            for t in report.totals
        ],
        "csv_url": reverse("console:sla_report_csv", args=args),
        "pdf_url": reverse("console:sla_report_pdf", args=args),
        "generated_at": timezone.now(),
    }
    if role == "manager":  # the navigation's link to the question queue, as on other pages
        context["open_questions"] = dashboard_selectors.open_question_count()
    return context


def _filename(report: reports.SlaReport, extension: str) -> str:
    return f"sla-report-{report.customer.slug}-{report.year:04d}-{report.month:02d}.{extension}"


# --- Views ---------------------------------------------------------------------------------------


class ReportForm(forms.Form):
    customer = forms.ChoiceField(label=gettext_lazy("Customer"))
    month = forms.RegexField(
        label=gettext_lazy("Month"),
        regex=r"^[0-9]{4}-[0-9]{2}$",
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
        error_messages={"invalid": gettext_lazy("Enter a month as YYYY-MM.")},
    )

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.customers = {c.slug: c for c in customers}
        self.fields["customer"].choices = [(c.slug, c.name) for c in customers]

    def clean_month(self) -> tuple[int, int]:
        year, month = (int(part) for part in self.cleaned_data["month"].split("-"))
        if not 1 <= month <= 12 or year < 1900:
            raise forms.ValidationError(_("Enter a month as YYYY-MM."))
        return year, month

    def clean(self):
        data = super().clean()
        customer, chosen = self.customers.get(data.get("customer")), data.get("month")
        if customer is not None and chosen is not None:
            try:
                begun = _begun(customer, *chosen)
            except reports.InvalidMonth:
                self.add_error("month", _("Enter a month as YYYY-MM."))
            else:
                if not begun:
                    self.add_error("month", _("This month has not begun yet."))
        return data


@require_GET
@login_required
def index(request):
    """Pick a customer and a month (default: last month); the form leads to the HTML report."""
    role = _viewer(request)
    customers = _customers_for(request, role).order_by("name")
    if role != "customer":
        customers = customers.filter(contracts__isnull=False).distinct()
    customers = list(customers)
    status = 200
    if "month" in request.GET or "customer" in request.GET:
        form = ReportForm(request.GET, customers=customers)
        if form.is_valid():
            year, month = form.cleaned_data["month"]
            args = [form.cleaned_data["customer"], f"{year:04d}", f"{month:02d}"]
            return redirect("console:sla_report", *args)
        status = 400
    else:
        year, month = reports.default_month()
        initial = {"month": f"{year:04d}-{month:02d}"}
        if customers:
            initial["customer"] = customers[0].slug
        form = ReportForm(initial=initial, customers=customers)
    context = {"form": form, "customers": customers, "role": role}
    if role == "manager":
        context["open_questions"] = dashboard_selectors.open_question_count()
    return render(request, "reports/index.html", context, status=status)


@require_GET
@login_required
def report_html(request, slug: str, year: str, month: str):
    role, report = _load(request, slug, year, month)
    return render(request, "reports/sla_month.html", _context(request, role, report))


@require_GET
@login_required
def report_pdf(request, slug: str, year: str, month: str):
    role, report = _load(request, slug, year, month)
    html = render_to_string(
        "reports/sla_month_pdf.html", _context(request, role, report), request=request
    )
    pdf = render_pdf(html, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "pdf")}"'
    return response


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


def _minutes(seconds: float) -> str:
    return str((Decimal(str(round(seconds, 6))) / 60).quantize(Decimal("0.1")))


def csv_rows(report: reports.SlaReport) -> list[list[str]]:
    """The CSV table: a header, one row per incident x contract, a totals row per contract
    (raw text: csv_write makes every cell safe for spreadsheets)."""
    header = [
        _("Contract"),
        _("Incident"),
        _("Title"),
        _("Priority"),
        _("Detected"),
        _("Resolved"),
    ]
    for kind in TARGET_KINDS:
        label = str(Target(kind).label)
        header += [label, _("%(target)s: service time (min)") % {"target": label}]
    header += [
        _("Credit"),
        _("Credits owed (month cap applied)"),
        _("Currency"),
        _("Note"),
    ]
    rows = [header]
    for section in report.contracts:
        for line in section.incidents:
            row = [
                section.name,
                str(line.incident_id),
                line.title,
                f"P{line.priority}" if line.priority else "",
                _when(line.detected_at),
                _when(line.resolved_at),
            ]
            for kind in TARGET_KINDS:
                target = line.target(kind)
                if target is None:
                    row += ["", ""]
                else:
                    row += [str(STATUS_LABELS[target.status]), _minutes(target.elapsed_seconds)]
            note = _("still open: accrued so far") if line.provisional else ""
            row += [str(line.credit), "", section.currency, note]
            rows.append(row)
        total = [section.name, "", _("Total"), "", "", ""]
        total += ["", ""] * len(TARGET_KINDS)
        note = ""
        if section.month_cap is not None:
            note = _("month cap %(cap)s") % {"cap": section.month_cap}
        total += [str(section.credits_sum), str(section.credits_owed), section.currency, note]
        rows.append(total)
    return rows


@require_GET
@login_required
def report_csv(request, slug: str, year: str, month: str):
    _role, report = _load(request, slug, year, month)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "csv")}"'
    response.write("\ufeff")  # byte order mark: Excel reads UTF-8
    csv_write(response, csv_rows(report))  # every cell neutralised (incidents/exports.py)
    return response


# Included into the console's URLs (escalation/urls.py): /console/reports/...
_REPORT = r"^reports/(?P<slug>[-a-zA-Z0-9_]+)/(?P<year>[0-9]{4})-(?P<month>[0-9]{2})"
urlpatterns = [
    path("reports/", index, name="reports"),
    re_path(_REPORT + r"/$", report_html, name="sla_report"),
    re_path(_REPORT + r"\.csv$", report_csv, name="sla_report_csv"),
    re_path(_REPORT + r"\.pdf$", report_pdf, name="sla_report_pdf"),
]
