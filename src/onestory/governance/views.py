"""The privacy officer's requests: subject access (with the person's whole record, while the
request is open) and rectification. Thin: parse, fetch through ``access.scope``, call one
service, render."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone

from onestory.access import scope
from onestory.access.context import request_access
from onestory.access.decorators import public, roles
from onestory.access.roles import Role
from onestory.governance import access_review as access_reviews
from onestory.governance import forms, retention, services
from onestory.governance.models import (
    DestructionRecord,
    RectificationRequest,
    RequestStatus,
    SubjectAccessRequest,
)


@roles(Role.PRIVACY_OFFICER)
def index(request: HttpRequest) -> HttpResponse:
    access = request_access(request)
    today = timezone.localdate()
    return render(
        request,
        "governance/index.html",
        {
            "sars": scope.subject_access_requests(access),
            "rectifications": scope.rectification_requests(access),
            "today": today,
        },
    )


def _new_request(
    request: HttpRequest,
    form_class: type[forms.SubjectAccessForm] | type[forms.RectificationForm],
    record: Callable[..., SubjectAccessRequest | RectificationRequest],
    detail: str,
    heading: str,
) -> HttpResponse:
    """A new request: find the person (identity only), then record the request about them."""
    access = request_access(request)
    find = forms.FindPersonForm(request.GET if "q" in request.GET else None)
    found = (
        scope.subject_access_search(access, query=find.cleaned_data["q"])
        if (find.is_valid())
        else []
    )
    person = None
    person_id = request.GET.get("person", "")
    if person_id.isdigit():
        person = scope.governance_person(access, int(person_id))
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and person is not None and form.is_valid():
        try:
            made = record(actor=access, person=person, **form.cleaned_data)
        except services.GovernanceError as exc:
            form.add_error("received_on", str(exc))
        else:
            messages.success(request, f"Request recorded. It is due by {made.due_on:%-d %B %Y}.")
            return redirect(detail, request_id=made.pk)
    return render(
        request,
        "governance/request_new.html",
        {
            "find": find,
            "found": found,
            "person": person,
            "form": form,
            "heading": heading,
            "submit": "Record the request",
        },
    )


@roles(Role.PRIVACY_OFFICER)
def sar_new(request: HttpRequest) -> HttpResponse:
    return _new_request(
        request,
        forms.SubjectAccessForm,
        services.sar_record,
        "governance:sar_detail",
        "Record a subject access request",
    )


@roles(Role.PRIVACY_OFFICER)
def sar_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    access = request_access(request)
    sar = scope.subject_access_get(access, request_id)
    extend = forms.ExtendForm(
        request.POST if request.POST.get("step") == "extend" else None,
        initial={"version": sar.version},
    )
    close = forms.CloseForm(
        request.POST if request.POST.get("step") == "close" else None,
        initial={"version": sar.version, "sent_on": timezone.localdate()},
    )
    if request.method == "POST":
        bound = extend if request.POST.get("step") == "extend" else close
        if bound.is_valid():
            data = bound.cleaned_data
            try:
                if bound is extend:
                    services.sar_extend(
                        actor=access,
                        sar=sar,
                        version=data["version"],
                        months=data["months"],
                        reason=data["reason"],
                    )
                    messages.success(request, "The deadline is extended.")
                else:
                    services.sar_close(
                        actor=access, sar=sar, version=data["version"], sent_on=data["sent_on"]
                    )
                    messages.success(request, "Recorded as sent. The request is closed.")
            except services.GovernanceError as exc:
                bound.add_error(None, str(exc))
            else:
                return redirect("governance:sar_detail", request_id=sar.pk)
    return render(
        request,
        "governance/sar_detail.html",
        {
            "sar": sar,
            "extend": extend,
            "close": close,
            "today": timezone.localdate(),
            "closed": sar.status == RequestStatus.CLOSED,
        },
    )


@roles(Role.PRIVACY_OFFICER)
def sar_download(request: HttpRequest, request_id: int, fmt: str) -> HttpResponse:
    """Everything held about the person, as JSON or PDF, while the request is open."""
    if fmt not in {"json", "pdf"}:
        raise Http404
    access = request_access(request)
    sar = scope.subject_access_get(access, request_id)
    record = scope.subject_access_record(access, sar)
    services.sar_produced(actor=access, sar=sar)
    record["request"] = {
        "id": sar.pk,
        "received_on": sar.received_on.isoformat(),
        "due_on": sar.deadline.isoformat(),
        "produced_on": timezone.localdate().isoformat(),
        "produced_by": access.user.get_full_name() or access.user.get_username(),
    }
    name = f"subject-access-{sar.pk}"
    if fmt == "json":
        body: bytes = json.dumps(record, indent=2, ensure_ascii=False, default=str).encode()
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    else:
        from weasyprint import HTML

        html = render_to_string("governance/sar_pdf.html", {"r": record, "sar": sar})
        response = HttpResponse(HTML(string=html).write_pdf(), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@roles(Role.PRIVACY_OFFICER)
def rectification_new(request: HttpRequest) -> HttpResponse:
    return _new_request(
        request,
        forms.RectificationForm,
        services.rectification_record,
        "governance:rectification_detail",
        "Record a request to correct information",
    )


@roles(Role.PRIVACY_OFFICER)
def rectification_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    access = request_access(request)
    row = scope.rectification_get(access, request_id)
    form = forms.DecideForm(
        request.POST if request.method == "POST" else None, initial={"version": row.version}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.rectification_decide(
                actor=access,
                request=row,
                version=form.cleaned_data["version"],
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
        except services.GovernanceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Decision recorded. The request is closed.")
            return redirect("governance:rectification_detail", request_id=row.pk)
    return render(
        request,
        "governance/rectification_detail.html",
        {"row": row, "form": form, "today": timezone.localdate()},
    )


@roles(Role.PRIVACY_OFFICER)
def retention_queue(request: HttpRequest) -> HttpResponse:
    """Records past their retention period, waiting for review, and what was destroyed."""
    access = request_access(request)
    return render(
        request,
        "governance/retention.html",
        {
            "items": scope.retention_queue(access),
            "destroyed": DestructionRecord.objects.select_related("destroyed_by")[:50],
            "years": settings.ONESTORY["RETENTION_YEARS"],
            "mh_years": settings.ONESTORY["RETENTION_MENTAL_HEALTH_YEARS"],
        },
    )


@roles(Role.PRIVACY_OFFICER)
def retention_review(request: HttpRequest, person_id: int) -> HttpResponse:
    access = request_access(request)
    item, person = scope.retention_item(access, person_id)
    step = request.POST.get("step")
    destroy = forms.DestroyForm(request.POST if step == "destroy" else None)
    hold = forms.HoldForm(request.POST if step == "hold" else None)
    bound = destroy if step == "destroy" else hold
    if request.method == "POST" and bound.is_valid():
        today = timezone.localdate()
        try:
            if bound is destroy:
                retention.destroy(
                    actor=access,
                    person_id=person_id,
                    reason=destroy.cleaned_data["reason"],
                    today=today,
                )
                messages.success(request, "Destroyed. The destruction is recorded below.")
            else:
                retention.hold(actor=access, person_id=person_id, today=today, **hold.cleaned_data)
                messages.success(request, "Kept. It will come back for review on that date.")
        except retention.RetentionError as exc:
            bound.add_error(None, str(exc))
        else:
            return redirect("governance:retention")
    return render(
        request,
        "governance/retention_review.html",
        {
            "item": item,
            "person": person,
            "rows": retention.held_rows(person_id),
            "destroy": destroy,
            "hold": hold,
        },
    )


@roles(Role.MANAGER)
def access_review(request: HttpRequest) -> HttpResponse:
    """Who holds a role in the manager's organisation: confirm each is still needed, or end
    it (joiners, movers and leavers)."""
    access = request_access(request)
    if request.method == "POST":
        membership = request.POST.get("membership", "")
        keep = request.POST.get("decision") == "keep"
        if not membership.isdigit() or request.POST.get("decision") not in {"keep", "end"}:
            messages.error(request, "Choose a role and whether it is still needed.")
        else:
            try:
                access_reviews.decide(actor=access, membership_id=int(membership), keep=keep)
            except access_reviews.AccessReviewError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request, "Recorded: still needed." if keep else "Role ended and recorded."
                )
        return redirect("governance:access_review")
    return render(
        request,
        "governance/access_review.html",
        {
            "rows": access_reviews.rows(access.organisation_id, timezone.localdate()),
            "organisation": access.organisation,
            "months": settings.ONESTORY["ACCESS_REVIEW_MONTHS"],
            "dormant_days": settings.ONESTORY["DORMANT_DAYS"],
        },
    )


@public
def privacy_notice(request: HttpRequest) -> HttpResponse:
    """How OneStory uses people's information, in easy read."""
    return render(request, "governance/privacy_notice.html")
