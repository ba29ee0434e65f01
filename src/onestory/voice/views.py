"""The barrier log and the system change board. Thin: scope, one service, render."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from onestory.access import policy, scope
from onestory.access.context import request_access
from onestory.access.decorators import roles
from onestory.access.roles import Role
from onestory.insight.dashboard import grouped_chart
from onestory.referrals.models import Referral
from onestory.voice import forms, services
from onestory.voice.models import Barrier, Category

RAISERS = tuple(policy.BARRIER_RAISING_ROLES)
SEEING = (*RAISERS, Role.BOARD_MEMBER)


@roles(*SEEING)
def board(request: HttpRequest) -> HttpResponse:
    """Every barrier this user may see: the board's triage list, a manager's organisation's
    barriers, or a worker's own. Overdue first."""
    access = request_access(request)
    rows = list(scope.barriers_visible(access))
    form = forms.BoardFilter(request.GET or None)
    if form.is_valid():
        status = form.cleaned_data["status"]
        if status == "open":
            rows = [b for b in rows if b.open]
        elif status == "overdue":
            rows = [b for b in rows if services.is_overdue(b)]
        elif status:
            rows = [b for b in rows if b.status == status]
        if form.cleaned_data["category"]:
            rows = [b for b in rows if b.category == form.cleaned_data["category"]]
    today = timezone.localdate()
    listed = [(b, services.is_overdue(b, today)) for b in rows]
    listed.sort(key=lambda item: (not item[1], item[0].open is False, -item[0].pk))
    return render(
        request,
        "voice/board.html",
        {
            "rows": listed,
            "form": form,
            "board": policy.may_triage_barriers(role=access.role),
            "can_raise": policy.may_raise_barrier(role=access.role),
            "waiting": sum(1 for b in rows if b.status == Barrier.Status.NEW),
            "overdue": sum(1 for _, late in listed if late),
            "days": services.escalate_after(),
        },
    )


@roles(*RAISERS)
def barrier_new(request: HttpRequest) -> HttpResponse:
    """Log a barrier; from a declined referral (``?referral=``) or a person's page
    (``?person=``) it is linked to that person, whom the board never sees."""
    access = request_access(request)
    referral: Referral | None = None
    person = None
    initial: dict[str, Any] = {}
    if request.GET.get("referral", "").isdigit():
        referral = scope.referral_get(access, int(request.GET["referral"]))
        if referral.status != Referral.Status.DECLINED:
            raise Http404("Only a declined referral prompts a barrier")
        person = scope.person_get(access, referral.person_id, action="barrier.new")
        initial = {
            "service": referral.service_id,
            "service_or_rule": str(referral.service or referral.to_organisation),
            "category": Category.ELIGIBILITY
            if referral.decline_reason == Referral.DeclineReason.NOT_ELIGIBLE
            else "",
            "impact": Barrier.Impact.DELAYED,
            "what_happened": f"A referral to {referral.to_organisation} was declined: "
            f"{referral.get_decline_reason_display().lower()}.",
        }
    elif request.GET.get("person", "").isdigit():
        person = scope.person_get(access, int(request.GET["person"]), action="barrier.new")
    form = forms.BarrierForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            barrier = services.barrier_raise(
                actor=access,
                what_happened=data["what_happened"],
                category=data["category"],
                impact=data["impact"],
                service=data["service"],
                service_or_rule=data["service_or_rule"],
                impact_note=data["impact_note"],
                person=person,
                referral=referral,
            )
        except services.BarrierError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Barrier {barrier.pk} logged. The partnership board will triage it and you "
                "can follow it here.",
            )
            return redirect("voice:detail", barrier_id=barrier.pk)
    return render(
        request,
        "voice/new.html",
        {"form": form, "person": person, "referral": referral},
    )


ACTIONS = {
    "assign": forms.AssignForm,
    "group": forms.GroupForm,
    "not_taken_forward": forms.NoteForm,
    "reopen": forms.NoteForm,
    "escalate": forms.NoteForm,
    "respond": forms.RespondForm,
}


@roles(*SEEING)
def barrier_detail(request: HttpRequest, barrier_id: int) -> HttpResponse:
    access = request_access(request)
    barrier = scope.barrier_get(access, barrier_id)
    on_board = policy.may_triage_barriers(role=access.role)
    owner = policy.may_respond_to_barrier(
        role=access.role, owns=barrier.owner_id == access.organisation_id
    )
    action = request.POST.get("action", "") if request.method == "POST" else ""
    bound: dict[str, Any] = {}
    initial = {"based_on_version": barrier.version}
    for name, form_class in ACTIONS.items():
        data = request.POST if action == name else None
        bound[name] = form_class(data, initial=initial, prefix=name)
    if action:
        allowed = (action == "respond" and owner) or (action != "respond" and on_board)
        if action not in ACTIONS or not allowed:
            return render(request, "errors/403.html", status=403)
        form = bound[action]
        if form.is_valid():
            data = form.cleaned_data
            version = data["based_on_version"]
            try:
                if action == "assign":
                    services.barrier_assign(
                        actor=access, barrier=barrier, owner=data["owner"], note=data["note"],
                        based_on_version=version,
                    )  # fmt: skip
                elif action == "group":
                    services.barrier_group(
                        actor=access, barrier=barrier, group=data["group"],
                        new_title=data["new_title"], based_on_version=version,
                    )  # fmt: skip
                elif action == "not_taken_forward":
                    services.barrier_not_taken_forward(
                        actor=access, barrier=barrier, reason=data["text"], based_on_version=version
                    )
                elif action == "reopen":
                    services.barrier_reopen(
                        actor=access, barrier=barrier, reason=data["text"], based_on_version=version
                    )
                elif action == "escalate":
                    services.barrier_escalate(
                        actor=access, barrier=barrier, note=data["text"], based_on_version=version
                    )
                else:
                    services.barrier_respond(
                        actor=access, barrier=barrier, kind=data["kind"], text=data["text"],
                        based_on_version=version,
                    )  # fmt: skip
            except services.BarrierError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Saved.")
                return redirect("voice:detail", barrier_id=barrier.pk)
    return render(
        request,
        "voice/detail.html",
        {
            "barrier": barrier,
            "updates": list(barrier.updates.select_related("organisation", "written_by")),
            "person": scope.barrier_person(access, barrier),
            "on_board": on_board,
            "owner": owner,
            "forms": bound,
            "overdue": services.is_overdue(barrier),
            "errors": [f for f in bound.values() if f.errors],
        },
    )


@dataclass(frozen=True)
class ThemeRow:
    label: str
    counts: list[int]
    total: int
    resolved: int


def _quarter(day: date) -> str:
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


@roles(Role.BOARD_MEMBER, Role.MANAGER)
def themes(request: HttpRequest) -> HttpResponse:
    """Barriers by kind, quarter by quarter, and how many were resolved. Counts of
    barriers about services and rules, not of people."""
    access = request_access(request)
    rows = list(scope.barriers_visible(access).values_list("category", "raised_on", "status"))
    quarters = sorted({_quarter(day) for _, day, _ in rows})[-6:]
    raised: Counter[tuple[str, str]] = Counter((c, _quarter(d)) for c, d, _ in rows)
    totals: Counter[str] = Counter(c for c, _, _ in rows)
    resolved: Counter[str] = Counter(c for c, _, s in rows if s == Barrier.Status.RESOLVED)
    table = [
        ThemeRow(
            label=str(label),
            counts=[raised[(value, q)] for q in quarters],
            total=totals[value],
            resolved=resolved[value],
        )
        for value, label in Category.choices
        if totals[value]
    ]
    top = sorted(table, key=lambda r: -r.total)[:3]
    chart = grouped_chart(
        quarters,
        [(r.label, list[int | None](r.counts)) for r in top],
        title="The three most common kinds of barrier, quarter by quarter",
    )
    return render(
        request,
        "voice/themes.html",
        {"table": table, "quarters": quarters, "chart": chart, "total": len(rows)},
    )
