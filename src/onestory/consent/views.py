"""The person's sharing decisions: see, record, withdraw."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from onestory.access import scope
from onestory.access.context import request_access
from onestory.access.decorators import roles
from onestory.access.policy import RECORDING_ROLES
from onestory.consent.forms import SharingDecisionForm, WithdrawForm
from onestory.consent.services import SharingError, sharing_record, sharing_withdraw

RECORDERS = tuple(RECORDING_ROLES)


@roles(*RECORDERS)
def sharing(request: HttpRequest, person_id: int) -> HttpResponse:
    access = request_access(request)
    person = scope.person_for_sharing(access, person_id)
    decisions = scope.sharing_decisions(access, person)
    return render(request, "consent/sharing.html", {"person": person, "decisions": decisions})


@roles(*RECORDERS)
def sharing_new(request: HttpRequest, person_id: int) -> HttpResponse:
    access = request_access(request)
    person = scope.person_for_sharing(access, person_id)
    form = SharingDecisionForm(
        request.POST or None, initial={"organisations": [access.organisation_id]}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sharing_record(
                actor=access,
                person=person,
                organisations=data["organisations"],
                categories=data["categories"],
                basis=data["basis"],
                review_on=data["review_on"],
                notes=data["notes"],
            )
        except SharingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Sharing decision recorded.")
            return redirect("consent:sharing", person_id=person.pk)
    return render(request, "consent/sharing_new.html", {"person": person, "form": form})


@roles(*RECORDERS)
def sharing_withdraw_view(request: HttpRequest, person_id: int, decision_id: int) -> HttpResponse:
    access = request_access(request)
    person = scope.person_for_sharing(access, person_id)
    decision = next(
        (d for d in scope.sharing_decisions(access, person) if d.pk == decision_id), None
    )
    if decision is None or decision.withdrawn_at is not None:
        raise Http404
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sharing_withdraw(actor=access, decision=decision, reason=form.cleaned_data["reason"])
        except SharingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Sharing with {decision.organisation} withdrawn.")
            return redirect("consent:sharing", person_id=person.pk)
    return render(
        request,
        "consent/sharing_withdraw.html",
        {"person": person, "decision": decision, "form": form},
    )
