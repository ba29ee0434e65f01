"""Multi-agency meetings and actions. Thin: scope, one service, render."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from onestory.access import policy, scope
from onestory.access.context import request_access
from onestory.access.decorators import roles
from onestory.access.models import Membership, User
from onestory.access.roles import CASEWORK_ROLES, Role
from onestory.core import rls
from onestory.core.disclosure import Rule
from onestory.meetings import forms, measures, services
from onestory.meetings.services import MeetingError

CASEWORK = tuple(CASEWORK_ROLES)
RUNNING = (Role.NAVIGATOR, Role.PRACTITIONER, Role.MANAGER)


def _caseworkers() -> list[User]:
    ids = Membership.objects.filter(role__in=[r.value for r in CASEWORK_ROLES]).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("first_name"))


@roles(*CASEWORK)
def meeting_list(request: HttpRequest) -> HttpResponse:
    access = request_access(request)
    form = forms.MeetingForm(request.POST or None, initial={"held_on": timezone.localdate()})
    if request.method == "POST":
        if not policy.may_run_meetings(role=access.role):
            return render(request, "errors/403.html", status=403)
        if form.is_valid():
            data = form.cleaned_data
            meeting = services.meeting_create(
                actor=access,
                title=data["title"],
                held_on=data["held_on"],
                organisations=list(data["organisations"]),
            )
            messages.success(request, "Meeting set up. Add the people to discuss.")
            return redirect("meetings:detail", meeting_id=meeting.pk)
    return render(
        request,
        "meetings/list.html",
        {
            "meetings": scope.meetings(access),
            "form": form,
            "can_run": policy.may_run_meetings(role=access.role),
        },
    )


@roles(*CASEWORK)
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    access = request_access(request)
    shown = scope.meeting_get(access, meeting_id)
    meeting = shown.meeting
    host = meeting.host_id == access.organisation_id and policy.may_run_meetings(role=access.role)
    people = [(v.id, v.person.display_name) for v in scope.caseload_people_for_agenda(access)]
    add_form = forms.AgendaAddForm(None, people=people, prefix="add")
    if request.method == "POST":
        if not host:
            return render(request, "errors/403.html", status=403)
        action = request.POST.get("action")
        try:
            if action == "add":
                add_form = forms.AgendaAddForm(request.POST, people=people, prefix="add")
                if add_form.is_valid():
                    view = scope.person_get(
                        access, int(add_form.cleaned_data["person"]), action="meeting.agenda"
                    )
                    services.agenda_add(actor=access, meeting=meeting, view=view)
                    messages.success(request, f"{view.person.display_name} added to the agenda.")
                    return redirect("meetings:detail", meeting_id=meeting.pk)
            elif action in {"record", "action", "review"}:
                item_id = int(request.POST.get("item") or 0)
                match = next(((i, v) for i, v in shown.items if i.pk == item_id), None)
                if match is None:
                    return render(request, "404.html", status=404)
                item, view = match
                if action == "review":
                    services.agenda_review(actor=access, item=item, view=view)
                    messages.success(
                        request, f"Recorded as a review of {view.person.display_name}'s support."
                    )
                    return redirect("meetings:detail", meeting_id=meeting.pk)
                if action == "record":
                    form = forms.AgendaRecordForm(request.POST, prefix=f"item{item.pk}")
                    if form.is_valid():
                        services.agenda_record(
                            actor=access,
                            item=item,
                            view=view,
                            discussion=form.cleaned_data["discussion"],
                            decisions=form.cleaned_data["decisions"],
                            based_on_version=form.cleaned_data["based_on_version"],
                        )
                        messages.success(request, "Discussion saved.")
                        return redirect("meetings:detail", meeting_id=meeting.pk)
                else:
                    form2 = forms.ActionForm(
                        request.POST, owners=_caseworkers(), prefix=f"action{item.pk}"
                    )
                    if form2.is_valid():
                        data = form2.cleaned_data
                        services.action_create(
                            actor=access,
                            view=view,
                            description=data["description"],
                            owner_organisation=data["owner_organisation"],
                            owner=data["owner"],
                            due_on=data["due_on"],
                            item=item,
                        )
                        messages.success(request, "Action added.")
                        return redirect("meetings:detail", meeting_id=meeting.pk)
                    messages.error(request, "Give the action a description, an owner and a date.")
            else:
                return render(request, "errors/403.html", status=403)
        except MeetingError as exc:
            messages.error(request, str(exc))
    owners = _caseworkers()
    items = [
        (
            item,
            view,
            forms.AgendaRecordForm(
                None,
                initial={
                    "discussion": item.discussion,
                    "decisions": item.decisions,
                    "based_on_version": item.version,
                },
                prefix=f"item{item.pk}",
            ),
            forms.ActionForm(None, owners=owners, prefix=f"action{item.pk}"),
            list(item.actions.select_related("owner_organisation", "owner")),
        )
        for item, view in shown.items
    ]
    return render(
        request,
        "meetings/detail.html",
        {
            "meeting": meeting,
            "organisations": list(meeting.organisations.all()),
            "items": items,
            "hidden": shown.hidden,
            "host": host,
            "add_form": add_form,
            "today": timezone.localdate(),
        },
    )


@roles(*CASEWORK)
def actions(request: HttpRequest) -> HttpResponse:
    access = request_access(request)
    return render(
        request,
        "meetings/actions.html",
        {"rows": scope.actions_owned(access), "today": timezone.localdate()},
    )


@roles(*CASEWORK)
def action_detail(request: HttpRequest, action_id: int) -> HttpResponse:
    access = request_access(request)
    shown = scope.action_get(access, action_id)
    form = forms.ActionStatusForm(
        request.POST or None,
        initial={"status": shown.action.status, "based_on_version": shown.action.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.action_set_status(
                actor=access,
                action=shown.action,
                status=form.cleaned_data["status"],
                based_on_version=form.cleaned_data["based_on_version"],
            )
        except MeetingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Action updated.")
            return redirect("meetings:actions")
    return render(
        request,
        "meetings/action.html",
        {"shown": shown, "action": shown.action, "form": form, "today": timezone.localdate()},
    )


@roles(Role.MANAGER, Role.ANALYST, Role.BOARD_MEMBER)
@rls.basis("aggregate")  # figures over everyone (ADR 0022)
def working_together(request: HttpRequest) -> HttpResponse:
    """Cross-organisational working, per organisation and month (aggregates only)."""
    access = request_access(request)
    today = timezone.localdate()
    months = []
    year, month = today.year, today.month
    for _ in range(6):
        months.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    months.reverse()
    suppressed = access.role in {Role.ANALYST, Role.BOARD_MEMBER}
    rows, mean_team = measures.working_together(
        months=months, rule=Rule.from_settings() if suppressed else None
    )
    return render(
        request,
        "meetings/working_together.html",
        {"rows": rows, "mean_team": mean_team, "suppressed": suppressed, "since": months[0]},
    )
