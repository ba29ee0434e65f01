"""Home, choosing a role, account security, and the error pages."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from onestory.access.decorators import public, signed_in
from onestory.access.middleware import SESSION_MEMBERSHIP
from onestory.access.models import Membership
from onestory.access.roles import CASEWORK_ROLES, Role
from onestory.audit import services as audit
from onestory.core.forms import GovukForm


@public
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("account_login")
    access = getattr(request, "access", None)
    if access is not None and access.role in CASEWORK_ROLES:
        return redirect("casework:my_caseload")
    if access is not None and access.role == Role.ADMINISTRATOR:
        return redirect("admin_area:organisations")
    if access is not None and access.role == Role.DATA_MANAGER:
        return redirect("intake:imports")
    if access is not None and access.role == Role.PRIVACY_OFFICER:
        return redirect("audit:list")
    return render(request, "core/home.html", {"access": access})


class ChooseRoleForm(GovukForm):
    membership = forms.ChoiceField(
        label="Which role are you working in?", widget=forms.RadioSelect, choices=[]
    )


@signed_in
def choose_role(request: HttpRequest) -> HttpResponse:
    memberships = list(
        Membership.objects.filter(
            user_id=request.user.pk or 0, is_active=True, organisation__is_active=True
        ).select_related("organisation")
    )
    form = ChooseRoleForm(request.POST or None)
    choice_field = form.fields["membership"]
    assert isinstance(choice_field, forms.ChoiceField)
    choice_field.choices = [(str(m.pk), str(m)) for m in memberships]
    next_url = request.POST.get("next") or request.GET.get("next") or reverse("home")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("home")
    if request.method == "POST" and form.is_valid():
        chosen = next(m for m in memberships if str(m.pk) == form.cleaned_data["membership"])
        request.session[SESSION_MEMBERSHIP] = chosen.pk
        audit.record(
            actor=audit.Actor(user_id=request.user.pk, username=request.user.get_username()),
            action="session.choose_role",
            detail={"membership": chosen.pk, "role": chosen.role},
        )
        messages.success(request, f"You are now working as {chosen}.")
        return HttpResponseRedirect(next_url)
    return render(
        request,
        "core/choose_role.html",
        {"form": form, "next": next_url, "no_memberships": not memberships},
    )


@signed_in
def security(request: HttpRequest) -> HttpResponse:
    return render(request, "core/security.html")


@public
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "core/accessibility.html")


@signed_in
def mfa_cannot_deactivate(request: HttpRequest) -> HttpResponse:
    return render(request, "core/mfa_cannot_deactivate.html")
