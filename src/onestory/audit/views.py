"""The privacy officer's view of the audit trail (they see the trail, not the records)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from onestory.access.decorators import roles
from onestory.access.roles import Role
from onestory.audit.models import AuditEvent, AuditPersonAccess
from onestory.audit.services import audit_verify


@roles(Role.PRIVACY_OFFICER)
def audit_list(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.order_by("-seq")
    person = request.GET.get("person", "").strip()
    if person.isdigit():
        events = events.filter(
            pk__in=AuditPersonAccess.objects.filter(person_id=int(person)).values("event_id")
        )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "audit/list.html", {"page": page, "person": person})


@roles(Role.PRIVACY_OFFICER)
def audit_check(request: HttpRequest) -> HttpResponse:
    result = audit_verify()
    return render(request, "audit/check.html", {"result": result})
