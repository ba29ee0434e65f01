"""The by-name list: everyone in the SMD cohort, by name, so they can be allocated a
navigator and approached (SECURITY.md rule 4, identification before consent)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from onestory.access import scope
from onestory.access.context import request_access
from onestory.access.decorators import roles
from onestory.access.models import User
from onestory.access.roles import Role
from onestory.audit import services as audit
from onestory.casework import selectors as casework
from onestory.casework.services import CaseworkError, allocation_create
from onestory.core import rls
from onestory.core.disclosure import Rule
from onestory.core.forms import GovukForm
from onestory.insight import dashboard as insight
from onestory.insight import report
from onestory.insight.selectors import cohort_rows, current_rule
from onestory_engine import feeds


class ByNameFilter(GovukForm):
    q = forms.CharField(label="Name", required=False, max_length=100)
    show = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[("", "Everyone"), ("unallocated", "Unallocated only"), ("mine", "Allocated here")],
    )
    domain = forms.ChoiceField(
        label="Domain",
        required=False,
        choices=[("", "Any"), *((d, d.replace("_", " ").capitalize()) for d in feeds.DOMAINS)],
    )


@roles(Role.NAVIGATOR, Role.MANAGER)
def by_name_list(request: HttpRequest) -> HttpResponse:
    access = request_access(request)
    rows = cohort_rows()
    if request.method == "POST":
        cohort_ids = {int(r["person_id"]) for r in rows if r["smd"] == 1}
        person = scope.person_for_allocation(
            access, int(request.POST.get("person") or 0), cohort_ids
        )
        worker_id = int(request.POST.get("worker") or access.user.pk)
        worker = User.objects.filter(pk=worker_id).first() or access.user
        try:
            allocation_create(actor=access, person=person, worker=worker, kind="lead")
        except CaseworkError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                f"{person.display_name} allocated to {worker}. Next: meet them and record "
                "what they agree to share.",
            )
        return redirect("insight:by_name_list")
    listed = scope.by_name_list(access, rows)
    form = ByNameFilter(request.GET or None)
    if form.is_valid():
        data = form.cleaned_data
        words = (data["q"] or "").lower().split()
        listed = [r for r in listed if all(w in r.name.lower() for w in words)]
        if data["show"] == "unallocated":
            listed = [r for r in listed if not r.lead]
        elif data["show"] == "mine":
            listed = [r for r in listed if r.allocated_here]
        if data["domain"]:
            listed = [r for r in listed if data["domain"] in r.domains]
    listed.sort(key=lambda r: (bool(r.lead), -len(r.domains), -r.ed_attendances, r.name))
    workers = (
        casework.caseload_workers(access.organisation_id)
        if access.role == Role.MANAGER
        else [access.user]
    )
    return render(
        request,
        "insight/by_name_list.html",
        {
            "rows": listed,
            "form": form,
            "allowed": scope.may_identify(access),
            "rule": current_rule(),
            "workers": workers,
            "unallocated": sum(1 for r in listed if not r.lead),
        },
    )


@roles(Role.MANAGER, Role.ANALYST, Role.BOARD_MEMBER)
@rls.basis("aggregate")  # figures over everyone (ADR 0022)
def dashboard(request: HttpRequest) -> HttpResponse:
    """The cohort, the by-name list's flows month by month, and how domains overlap.
    Aggregates only; small numbers suppressed for analysts and board members."""
    access = request_access(request)
    suppressed = access.role in {Role.ANALYST, Role.BOARD_MEMBER}
    figures = insight.build(rule=Rule.from_settings() if suppressed else None)
    chart = insight.bar_chart(
        [(f"{m.month:%b}", m.on_list) for m in figures.months],
        title="People on the by-name list at each month end",
    )
    use = insight.grouped_chart(
        [f"{m.month:%b}" for m in figures.service_use],
        [
            ("A&E attendances", [m.ed for m in figures.service_use]),
            ("Arrivals by ambulance", [m.ambulance for m in figures.service_use]),
            ("Police arrests and custody", [m.police for m in figures.service_use]),
        ],
        title="Emergency service use by the people in the cohort now, month by month",
    )
    return render(
        request,
        "insight/dashboard.html",
        {
            "d": figures,
            "chart": chart,
            "use": use,
            "upset": insight.upset_chart(figures.overlaps, figures.domain_totals),
        },
    )


@roles(Role.MANAGER, Role.ANALYST, Role.BOARD_MEMBER)
@rls.basis("aggregate")  # figures over everyone (ADR 0022)
def figures_csv(request: HttpRequest) -> HttpResponse:
    """Every figure of the dashboard as CSV. An export leaves the app, so it is always
    through the small-number rule, whoever asks."""
    access = request_access(request)
    body = report.figures_csv()
    audit.record(actor=access.actor, action="report.figures.csv")
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="onestory-insight-figures.csv"'
    return response


@roles(Role.MANAGER, Role.ANALYST, Role.BOARD_MEMBER)
@rls.basis("aggregate")  # figures over everyone (ADR 0022)
def board_report(request: HttpRequest, fmt: str) -> HttpResponse:
    """The quarterly board report as PDF or xlsx (always with small numbers suppressed)."""
    access = request_access(request)
    if fmt not in {"pdf", "xlsx"}:
        return render(request, "404.html", status=404)
    if fmt == "pdf":
        body, kind = report.board_pdf(), "application/pdf"
    else:
        body = report.board_xlsx()
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    audit.record(actor=access.actor, action=f"report.board.{fmt}")
    response = HttpResponse(body, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="onestory-board-report.{fmt}"'
    return response
