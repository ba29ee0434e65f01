"""The service directory: what each partner offers, how to get help, and how flexible it
is. Everyone who works with people can search it; each organisation's managers keep their
own entries. It holds no person data."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from onestory.access.context import request_access
from onestory.access.decorators import roles
from onestory.access.models import Service
from onestory.access.roles import CASEWORK_ROLES, Role
from onestory.directory.forms import DirectorySearchForm, ServiceEntryForm
from onestory.directory.services import DirectoryError, service_save

READERS = (*CASEWORK_ROLES, Role.DATA_MANAGER, Role.PRIVACY_OFFICER)


@roles(*READERS)
def directory(request: HttpRequest) -> HttpResponse:
    form = DirectorySearchForm(request.GET or None)
    services = Service.objects.filter(is_active=True, organisation__is_active=True)
    if form.is_valid():
        data = form.cleaned_data
        for word in (data["q"] or "").split():
            services = services.filter(
                Q(name__icontains=word)
                | Q(description__icontains=word)
                | Q(eligibility__icontains=word)
                | Q(organisation__name__icontains=word)
                | Q(location__icontains=word)
            )
        if data["org_type"]:
            services = services.filter(organisation__org_type=data["org_type"])
        for need in data["needs"]:
            services = services.filter(**{need: True})
    rows = list(services.select_related("organisation").order_by("organisation__name", "name"))
    access = request_access(request)
    return render(
        request,
        "directory/list.html",
        {"form": form, "services": rows, "is_manager": access.role == Role.MANAGER},
    )


@roles(*READERS)
def service_detail(request: HttpRequest, service_id: int) -> HttpResponse:
    service = get_object_or_404(Service.objects.select_related("organisation"), pk=service_id)
    access = request_access(request)
    can_edit = access.role == Role.MANAGER and service.organisation_id == access.organisation_id
    return render(
        request,
        "directory/detail.html",
        {"service": service, "can_edit": can_edit},
    )


@roles(Role.MANAGER)
def service_edit(request: HttpRequest, service_id: int | None = None) -> HttpResponse:
    access = request_access(request)
    if service_id is None:
        service = Service(organisation=access.organisation)
    else:
        service = get_object_or_404(Service, pk=service_id, organisation_id=access.organisation_id)
    form = ServiceEntryForm(request.POST or None, instance=service)
    if request.method == "POST" and form.is_valid():
        try:
            saved = service_save(actor=access, service=form.save(commit=False))
        except DirectoryError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Directory entry saved.")
            return redirect("directory:detail", service_id=saved.pk)
    return render(
        request,
        "directory/edit.html",
        {"form": form, "service": service, "organisation": access.organisation},
    )
