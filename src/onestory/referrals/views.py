"""Referrals and alerts. Thin: scope, one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from onestory.access import policy, scope
from onestory.access.context import AccessContext, request_access
from onestory.access.decorators import roles
from onestory.access.roles import CASEWORK_ROLES, Role
from onestory.access.scope import PersonView
from onestory.casework.views import person_page
from onestory.referrals import forms, services
from onestory.referrals.services import ReferralError

CASEWORK = tuple(CASEWORK_ROLES)


@roles(Role.NAVIGATOR, Role.PRACTITIONER)
@person_page("referral.new")
def referral_new(request: HttpRequest, access: AccessContext, view: PersonView) -> HttpResponse:
    organisations = [o for o in scope.sharing_organisations(view) if o.pk != access.organisation_id]
    form = forms.ReferralForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            referral = services.referral_send(
                actor=access,
                view=view,
                to_organisation=data["to_organisation"],
                service=data["service"],
                reason=data["reason"],
                what_they_want=data["what_they_want"],
                duty_to_refer=data["duty_to_refer"],
            )
        except ReferralError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Referral sent to {referral.to_organisation}. They are asked to reply by "
                f"{referral.respond_by:%-d %B %Y}.",
            )
            return redirect("referrals:detail", referral_id=referral.pk)
    return render(
        request,
        "referrals/new.html",
        {"form": form, "view": view, "person": view.person, "organisations": organisations},
    )


@roles(*CASEWORK)
def inbox(request: HttpRequest) -> HttpResponse:
    access = request_access(request)
    sent = request.GET.get("show") == "sent"
    rows = scope.referrals_sent(access) if sent else scope.referrals_received(access)
    return render(
        request,
        "referrals/inbox.html",
        {"referrals": rows, "sent": sent, "today": timezone.localdate()},
    )


@roles(*CASEWORK)
def detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    access = request_access(request)
    referral = scope.referral_get(access, referral_id)
    receiving = referral.to_organisation_id == access.organisation_id
    sending = referral.from_organisation_id == access.organisation_id
    can_answer = receiving and referral.open and policy.may_answer_referral(role=access.role)
    decision = forms.DecisionForm(
        request.POST or None if request.POST.get("action") == "decide" else None,
        initial={"based_on_version": referral.version},
    )
    reply = forms.ReplyForm(request.POST or None if request.POST.get("action") == "reply" else None)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "decide":
                if not can_answer:
                    return render(request, "errors/403.html", status=403)
                if decision.is_valid():
                    data = decision.cleaned_data
                    services.referral_decide(
                        actor=access,
                        referral=referral,
                        decision=data["decision"],
                        based_on_version=data["based_on_version"],
                        decline_reason=data["decline_reason"],
                        note=data["note"],
                    )
                    messages.success(request, "Answer saved.")
                    return redirect("referrals:detail", referral_id=referral.pk)
            elif action == "reply" and sending:
                if reply.is_valid():
                    services.referral_reply(
                        actor=access, referral=referral, text=reply.cleaned_data["text"]
                    )
                    messages.success(request, "Reply sent.")
                    return redirect("referrals:detail", referral_id=referral.pk)
            elif action == "end" and (sending or receiving):
                services.referral_end(actor=access, referral=referral)
                messages.success(request, "Referral ended.")
                return redirect("referrals:detail", referral_id=referral.pk)
            else:
                return render(request, "errors/403.html", status=403)
        except ReferralError as exc:
            if action == "decide":
                decision.add_error(None, str(exc))
            else:
                messages.error(request, str(exc))
    return render(
        request,
        "referrals/detail.html",
        {
            "referral": referral,
            "person": referral.person,
            "conversation": list(referral.messages.select_related("written_by", "organisation")),
            "receiving": receiving,
            "sending": sending,
            "can_answer": can_answer,
            "form": decision,
            "reply": reply,
            "today": timezone.localdate(),
        },
    )


@roles(*CASEWORK)
def alerts(request: HttpRequest) -> HttpResponse:
    access = request_access(request)
    rows = scope.alerts(access)
    if request.method == "POST":
        services.alerts_read(actor=access, alert_ids=[a.pk for a, _ in rows if a.read_at is None])
        messages.success(request, "Alerts marked as read.")
        return redirect("referrals:alerts")
    return render(request, "referrals/alerts.html", {"rows": rows})


@roles(Role.NAVIGATOR, Role.PRACTITIONER, Role.MANAGER)
@person_page("event.new")
def event_new(request: HttpRequest, access: AccessContext, view: PersonView) -> HttpResponse:
    """Record something that happened; the person's lead worker is alerted."""
    choices = [
        (key, label)
        for key, (category, label) in services.RECORDABLE_EVENTS.items()
        if view.can_see(category)
    ]
    form = forms.EventForm(
        request.POST or None, choices=choices, initial={"occurred_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.event_record(
                actor=access,
                view=view,
                event_type=form.cleaned_data["event_type"],
                occurred_on=form.cleaned_data["occurred_on"],
                summary=form.cleaned_data["summary"],
            )
        except ReferralError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Recorded on the timeline. Their lead worker is alerted.")
            return redirect("people:detail", person_id=view.id)
    return render(
        request, "referrals/event_new.html", {"form": form, "view": view, "person": view.person}
    )
