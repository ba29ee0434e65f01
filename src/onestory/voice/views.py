"""The barrier log and the system change board. Thin: scope, one service, render."""

from __future__ import annotations

import base64
import io
from collections import Counter
from dataclasses import dataclass
from typing import Any

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import logout
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from onestory.access import policy, scope
from onestory.access.context import request_access
from onestory.access.decorators import public, roles, signed_in
from onestory.access.roles import Role
from onestory.audit import services as audit
from onestory.audit.decorators import unattributed
from onestory.core.disclosure import Rule, cells, quarter_of, shown
from onestory.core.ratelimit import limit, limited
from onestory.insight.dashboard import grouped_chart
from onestory.referrals.models import Referral
from onestory.voice import forms, services
from onestory.voice.models import Answer, Barrier, BarrierUpdate, Category, PublicStory

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
            "panel": policy.may_run_panel(role=access.role),
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
    form = forms.BarrierForm(request.POST if request.method == "POST" else None, initial=initial)
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
    "publish": forms.StoryForm,
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
    resolution = barrier.updates.filter(kind=BarrierUpdate.Kind.RESOLVED).last()
    initial = {
        "based_on_version": barrier.version,
        "you_said": barrier.what_happened,
        "we_did": resolution.text if resolution else "",
    }
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
            version = data.get("based_on_version", 0)
            try:
                if action == "publish":
                    services.story_publish(
                        actor=access, you_said=data["you_said"], we_did=data["we_did"],
                        barrier=barrier,
                    )  # fmt: skip
                elif action == "assign":
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
            "publishing": on_board
            and barrier.status == Barrier.Status.RESOLVED
            and not PublicStory.objects.filter(barrier=barrier).exists(),
            "errors": [f for f in bound.values() if f.errors],
        },
    )


@dataclass(frozen=True)
class ThemeRow:
    label: str
    counts: list[int]
    total: int
    resolved: int


@roles(Role.BOARD_MEMBER, Role.MANAGER)
def themes(request: HttpRequest) -> HttpResponse:
    """Barriers by kind, quarter by quarter, and how many were resolved. Counts of
    barriers about services and rules, not of people."""
    access = request_access(request)
    rows = list(scope.barriers_visible(access).values_list("category", "raised_on", "status"))
    quarters = sorted({quarter_of(day) for _, day, _ in rows})[-6:]
    raised: Counter[tuple[str, str]] = Counter((c, quarter_of(d)) for c, d, _ in rows)
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


# --- Feedback from people: one-time links, QR codes and kiosk mode ---------------------

FRESH_LINK = "onestory_fresh_feedback_link"
KIOSK_COOKIE = "onestory_kiosk"
KIOSK_SALT = "onestory.voice.kiosk"
KIOSK_HOURS = 8


def _qr_data_uri(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage)
    out = io.BytesIO()
    image.save(out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


@roles(*RAISERS)
def feedback_link_new(request: HttpRequest) -> HttpResponse:
    """Make a one-time feedback link to hand to someone, with its QR code."""
    access = request_access(request)
    if request.method == "POST":
        _link, token = services.link_create(
            actor=access.actor, organisation_id=access.organisation_id, user_id=access.user.pk
        )
        # Shown once, on the page this redirects to (so a refresh makes no second link).
        request.session[FRESH_LINK] = token
        return redirect("voice:feedback_link_new")
    link_url = qr = ""
    token = request.session.pop(FRESH_LINK, "")
    if token:
        link_url = request.build_absolute_uri(reverse("voice:feedback", args=[token]))
        qr = _qr_data_uri(link_url)
    return render(
        request,
        "voice/feedback_link.html",
        {"link_url": link_url, "qr": qr, "days": services.LINK_DAYS},
    )


@roles(*RAISERS)
def kiosk_start(request: HttpRequest) -> HttpResponse:
    """Turn this device into a feedback kiosk for the day: signs the worker out here, so
    the person holding it can only give feedback."""
    access = request_access(request)
    if request.method == "POST":
        value = signing.dumps(
            {"org": access.organisation_id, "by": access.user.pk}, salt=KIOSK_SALT
        )
        audit.record(actor=access.actor, action="feedback.kiosk.start")
        logout(request)
        response = redirect("voice:kiosk")
        response.set_cookie(
            KIOSK_COOKIE,
            value,
            max_age=KIOSK_HOURS * 3600,
            httponly=True,
            samesite="Strict",
            secure=request.is_secure(),
        )
        return response
    return render(request, "voice/kiosk_start.html", {"hours": KIOSK_HOURS})


def _kiosk(request: HttpRequest) -> dict[str, int] | None:
    raw = request.COOKIES.get(KIOSK_COOKIE, "")
    if not raw:
        return None
    try:
        value: dict[str, int] = signing.loads(raw, salt=KIOSK_SALT, max_age=KIOSK_HOURS * 3600)
    except signing.BadSignature:
        return None
    return value


@public
@unattributed
@limit("60/h", "POST")
def kiosk(request: HttpRequest) -> HttpResponse:
    """The kiosk's own page: the next person starts their feedback here."""
    state = _kiosk(request)
    if state is None:
        return render(request, "voice/kiosk_off.html", status=403)
    if request.method == "POST":
        if limited(request):
            return render(request, "voice/too_many.html", status=429)
        if request.POST.get("action") == "stop":
            response = redirect("account_login")
            response.delete_cookie(KIOSK_COOKIE)
            return response
        _link, token = services.link_create(
            actor=audit.UNATTRIBUTED, organisation_id=state["org"], user_id=state["by"],
            kiosk=True,
        )  # fmt: skip
        return redirect("voice:feedback", token=token)
    return render(request, "voice/kiosk.html")


@public
@unattributed
@limit("30/h", "POST")
@limit("300/h", "GET")
def feedback(request: HttpRequest, token: str) -> HttpResponse:
    """Someone's feedback through their one-time link. Reachable without an account; asks
    nothing about who they are."""
    if limited(request):
        return render(request, "voice/too_many.html", status=429)
    try:
        services.link_check(token)
    except services.FeedbackLinkError as exc:
        return render(request, "voice/link_problem.html", {"message": str(exc)}, status=exc.status)
    form = forms.FeedbackForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            _response, from_kiosk = services.feedback_submit(token=token, answers=form.cleaned_data)
        except services.FeedbackLinkError as exc:
            return render(
                request, "voice/link_problem.html", {"message": str(exc)}, status=exc.status
            )
        return redirect(reverse("voice:thanks") + ("?kiosk=1" if from_kiosk else ""))
    return render(request, "voice/feedback.html", {"form": form})


@public
@unattributed
def thanks(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "voice/thanks.html",
        {"kiosk": request.GET.get("kiosk") == "1" and _kiosk(request) is not None},
    )


@roles(Role.MANAGER, Role.BOARD_MEMBER, Role.ANALYST)
def feedback_results(request: HttpRequest) -> HttpResponse:
    """What people told us: a manager sees their organisation's answers exactly, and who
    asked to be contacted; the board and analysts see everyone's with small numbers
    suppressed."""
    access = request_access(request)
    own = access.role == Role.MANAGER
    rows = scope.feedback_visible(access)
    rule = None if own else Rule.from_settings()
    questions = []
    for field_name, label in (
        ("listened", "Did we listen to you?"),
        ("told_once", "Did you only have to tell your story once?"),
        ("have_a_say", "Do you have a say in your support?"),
        ("right_help", "Did you get the help you needed?"),
    ):
        counts = Counter(getattr(r, field_name) for r in rows)
        published = cells([counts[a.value] for a in Answer], rule)
        questions.append(
            {"label": label, "cells": list(zip(Answer.labels, published, strict=True))}
        )
    total = len(rows)
    return render(
        request,
        "voice/feedback_results.html",
        {
            "questions": questions,
            "answers": Answer.labels,
            "total": shown(total, rule),
            "own": own,
            "comments": [r.better for r in rows if r.better] if own else [],
            "contact": [r for r in rows if r.get_in_touch] if own else [],
        },
    )


# --- Anonymous staff voice -------------------------------------------------------------


@signed_in
@unattributed
def speak_up(request: HttpRequest) -> HttpResponse:
    """A member of staff raises a barrier or suggestion without their name: nothing about
    who they are is kept, here or in the audit trail (ADR 0012)."""
    form = forms.SpeakUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.staff_speak_up(
            what_happened=data["what_happened"],
            category=data["category"],
            impact=data["impact"],
            service_or_rule=data["service_or_rule"],
        )
        return redirect(reverse("voice:speak_up") + "?sent=1")
    if request.method == "GET" and request.GET.get("sent") == "1":
        return render(request, "voice/speak_up_done.html")
    return render(request, "voice/speak_up.html", {"form": form})


# --- The lived experience panel, and "you said, we did" -------------------------------


@roles(Role.BOARD_MEMBER, Role.MANAGER)
def panel(request: HttpRequest) -> HttpResponse:
    access = request_access(request)
    form = forms.PanelMeetingForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = services.panel_meeting_record(
                actor=access, held_on=data["held_on"], theme=data["theme"],
                summary=data["summary"], recommendations=[],
            )  # fmt: skip
        except services.BarrierError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Meeting recorded. Add the panel's recommendations.")
            return redirect("voice:panel_meeting", meeting_id=meeting.pk)
    return render(
        request,
        "voice/panel.html",
        {"meetings": scope.panel_meetings(access), "form": form},
    )


@roles(Role.BOARD_MEMBER, Role.MANAGER)
def panel_meeting(request: HttpRequest, meeting_id: int) -> HttpResponse:
    access = request_access(request)
    meeting = scope.panel_meeting_get(access, meeting_id)
    form = forms.RecommendationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.recommendation_add(
                actor=access,
                meeting=meeting,
                text=form.cleaned_data["text"],
                organisation=form.cleaned_data["organisation"],
            )
        except services.BarrierError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Recommendation added.")
            return redirect("voice:panel_meeting", meeting_id=meeting.pk)
    return render(
        request,
        "voice/panel_meeting.html",
        {"meeting": meeting, "recommendations": list(meeting.recommendations.all()), "form": form},
    )


@roles(Role.BOARD_MEMBER, Role.MANAGER)
def recommendation(request: HttpRequest, recommendation_id: int) -> HttpResponse:
    access = request_access(request)
    item = scope.recommendation_get(access, recommendation_id)
    answering = policy.may_respond_to_barrier(
        role=access.role, owns=item.organisation_id == access.organisation_id
    )
    on_board = policy.may_triage_barriers(role=access.role)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    respond = forms.RecommendationResponseForm(
        request.POST if action == "respond" else None,
        initial={"based_on_version": item.version},
        prefix="respond",
    )
    publish = forms.StoryForm(
        request.POST if action == "publish" else None,
        initial={"you_said": item.text, "we_did": item.what_changed or item.response},
        prefix="publish",
    )
    if action:
        if (action == "respond" and not answering) or (action == "publish" and not on_board):
            return render(request, "errors/403.html", status=403)
        form = respond if action == "respond" else publish
        if form.is_valid():
            data = form.cleaned_data
            try:
                if action == "respond":
                    services.recommendation_respond(
                        actor=access, recommendation=item, status=data["status"],
                        response=data["response"], what_changed=data["what_changed"],
                        based_on_version=data["based_on_version"],
                    )  # fmt: skip
                else:
                    services.story_publish(
                        actor=access, you_said=data["you_said"], we_did=data["we_did"],
                        recommendation=item,
                    )  # fmt: skip
            except services.BarrierError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Saved.")
                return redirect("voice:recommendation", recommendation_id=item.pk)
    return render(
        request,
        "voice/recommendation.html",
        {
            "item": item,
            "answering": answering and item.status == "waiting",
            "publishing": on_board and item.status != "waiting" and not hasattr(item, "story"),
            "respond": respond,
            "publish": publish,
            "errors": [f for f in (respond, publish) if f.errors],
        },
    )


@public
def you_said_we_did(request: HttpRequest) -> HttpResponse:
    """The public page: what people told the partnership and what changed. No personal
    data; no account needed."""
    return render(
        request,
        "voice/you_said_we_did.html",
        {"stories": list(PublicStory.objects.all()[:200])},
    )
