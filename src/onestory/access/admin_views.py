"""Administrators' pages: organisations, services, users, memberships, agreements.

Administrators never see person data (rule 2): nothing here goes near ``scope``.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from onestory.access.context import AccessContext
from onestory.access.decorators import roles
from onestory.access.forms import MembershipForm, OrganisationForm, ServiceForm, UserCreateForm
from onestory.access.models import Membership, Organisation, User
from onestory.access.roles import Role
from onestory.access.services import (
    AdminError,
    membership_add,
    membership_end,
    organisation_save,
    service_save,
    user_create,
    user_set_active,
)
from onestory.consent.forms import AgreementForm
from onestory.consent.models import DataSharingAgreement
from onestory.consent.services import SharingError, agreement_save

admin_only = roles(Role.ADMINISTRATOR)


def _actor(request: HttpRequest) -> AccessContext:
    access: AccessContext = request.access  # type: ignore[attr-defined]
    return access


@admin_only
def organisations(request: HttpRequest) -> HttpResponse:
    orgs = Organisation.objects.prefetch_related("services")
    return render(request, "admin_area/organisations.html", {"organisations": orgs})


@admin_only
def organisation_edit(request: HttpRequest, organisation_id: int | None = None) -> HttpResponse:
    org = get_object_or_404(Organisation, pk=organisation_id) if organisation_id else None
    form = OrganisationForm(request.POST or None, instance=org)
    if request.method == "POST" and form.is_valid():
        saved = organisation_save(actor=_actor(request).actor, organisation=form.save(commit=False))
        messages.success(request, f"{saved} saved.")
        return redirect("admin_area:organisations")
    return render(request, "admin_area/organisation_edit.html", {"form": form, "organisation": org})


@admin_only
def service_new(request: HttpRequest, organisation_id: int) -> HttpResponse:
    org = get_object_or_404(Organisation, pk=organisation_id)
    form = ServiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        service = form.save(commit=False)
        service.organisation = org
        try:
            service_save(actor=_actor(request).actor, service=service)
        except AdminError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"Service {service.name} added to {org}.")
            return redirect("admin_area:organisations")
    return render(request, "admin_area/service_new.html", {"form": form, "organisation": org})


@admin_only
def users(request: HttpRequest) -> HttpResponse:
    people = User.objects.prefetch_related("memberships__organisation").order_by("username")
    return render(request, "admin_area/users.html", {"users": people})


@admin_only
def user_new(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_create(actor=_actor(request).actor, **form.cleaned_data)
        except AdminError as exc:
            form.add_error("username", str(exc))
        else:
            messages.success(request, f"Account {user.username} created. Now give them a role.")
            return redirect("admin_area:user", user_id=user.pk)
    return render(request, "admin_area/user_new.html", {"form": form})


@admin_only
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    form = MembershipForm(request.POST or None)
    actor = _actor(request).actor
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "end":
            membership = get_object_or_404(Membership, pk=request.POST.get("membership"), user=user)
            membership_end(actor=actor, membership=membership)
            messages.success(request, f"Role {membership} ended.")
            return redirect("admin_area:user", user_id=user.pk)
        if action in {"disable", "enable"}:
            if user.pk == request.user.pk:
                messages.error(request, "You cannot disable your own account.")
            else:
                user_set_active(actor=actor, user=user, active=action == "enable")
                messages.success(
                    request, f"Account {'enabled' if action == 'enable' else 'disabled'}."
                )
            return redirect("admin_area:user", user_id=user.pk)
        if form.is_valid():
            try:
                membership_add(
                    actor=actor,
                    user=user,
                    organisation=form.cleaned_data["organisation"],
                    role=form.cleaned_data["role"],
                )
            except AdminError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Role added.")
                return redirect("admin_area:user", user_id=user.pk)
    memberships = user.memberships.select_related("organisation")
    return render(
        request,
        "admin_area/user_detail.html",
        {"subject": user, "memberships": memberships, "form": form},
    )


@admin_only
def agreements(request: HttpRequest) -> HttpResponse:
    items = DataSharingAgreement.objects.prefetch_related(
        "parties", "lead_navigation_organisations"
    )
    return render(request, "admin_area/agreements.html", {"agreements": items})


@admin_only
def agreement_edit(request: HttpRequest, agreement_id: int | None = None) -> HttpResponse:
    agreement = get_object_or_404(DataSharingAgreement, pk=agreement_id) if agreement_id else None
    initial = {"expected_version": agreement.version} if agreement else {}
    form = AgreementForm(request.POST or None, instance=agreement, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = agreement_save(
                actor=_actor(request).actor,
                agreement=form.save(commit=False),
                parties=form.cleaned_data["parties"],
                lead_navigation=form.cleaned_data["lead_navigation_organisations"],
                expected_version=form.cleaned_data.get("expected_version"),
            )
        except SharingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{saved} saved.")
            return redirect("admin_area:agreements")
    return render(request, "admin_area/agreement_edit.html", {"form": form, "agreement": agreement})
