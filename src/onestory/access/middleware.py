"""Deny by default: MFA first, then the acting membership, then each view's declared rule."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from allauth.mfa.models import Authenticator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse

from onestory.access.adapters import SESSION_PROVIDER_MFA
from onestory.access.context import AccessContext
from onestory.access.decorators import PUBLIC, SIGNED_IN
from onestory.access.models import Membership
from onestory.core import rls

SESSION_MEMBERSHIP = "onestory_membership_id"
STATIC_PREFIXES = ("/static/", "/assets/", "/favicon.ico")

# Pages a signed-in user without an authenticator may still reach: setting one up, and
# leaving. Everything else sends them to set-up.
MFA_SETUP_URL_NAMES = ("mfa_activate_totp", "account_logout", "account_reauthenticate")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def user_has_mfa(user: Any) -> bool:
    return bool(Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists())


class RequireMFAMiddleware:
    """MFA (authenticator app) is required for every staff account (SECURITY.md)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.has_mfa = False  # type: ignore[attr-defined]
        if request.user.is_authenticated and not request.path.startswith(STATIC_PREFIXES):
            # An identity provider that checked a second factor at this sign-in counts
            # (its ID token's "amr" said so); otherwise OneStory's own authenticator.
            if request.session.get(SESSION_PROVIDER_MFA) or user_has_mfa(request.user):
                request.has_mfa = True  # type: ignore[attr-defined]
            else:
                allowed = {reverse(name) for name in MFA_SETUP_URL_NAMES}
                if request.path not in allowed:
                    if _is_api(request):
                        return JsonResponse(
                            {"detail": "Set up your authenticator app before using OneStory."},
                            status=403,
                        )
                    return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)


class ActingMembershipMiddleware:
    """Sets ``request.access``: the user acting as the role and organisation chosen at
    sign-in. Someone holding several memberships is asked to choose before anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.access = None  # type: ignore[attr-defined]
        user = request.user
        if user.is_authenticated and getattr(request, "has_mfa", False):
            active = Membership.objects.filter(
                user=user, is_active=True, organisation__is_active=True
            ).select_related("organisation")
            chosen_id = request.session.get(SESSION_MEMBERSHIP)
            # Someone holds a handful of memberships at most: one query for all of them.
            memberships = list(active.order_by("pk"))
            request.has_several_roles = len(memberships) > 1  # type: ignore[attr-defined]
            membership = next((m for m in memberships if m.pk == chosen_id), None)
            if membership is None:
                if len(memberships) == 1:
                    membership = memberships[0]
                    request.session[SESSION_MEMBERSHIP] = membership.pk
                elif len(memberships) > 1:
                    exempt = {reverse("choose_role"), reverse("account_logout")}
                    if request.path not in exempt and not request.path.startswith(STATIC_PREFIXES):
                        if _is_api(request):
                            return JsonResponse(
                                {"detail": "Choose a role in the web app first."}, status=403
                            )
                        query = urlencode({"next": request.get_full_path()})
                        return HttpResponseRedirect(f"{reverse('choose_role')}?{query}")
            if membership is not None:
                request.access = AccessContext(user=user, membership=membership)  # type: ignore[attr-defined]
        return self.get_response(request)


class DenyByDefaultMiddleware:
    """A view without a declared access rule is refused. allauth's own views handle their
    own sign-in state; the API checks its rule on every operation (``onestory.api``)."""

    trusted_modules = ("allauth.", "ninja.")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        rule = getattr(view_func, "access_rule", None)
        target = view_func
        while isinstance(target, functools.partial):  # ninja serves its schema via partial
            target = target.func
        module = getattr(target, "__module__", "") or ""
        if rule is None and module.startswith(self.trusted_modules):
            return None
        if rule is None:
            return render(request, "errors/403.html", status=403)
        if rule == PUBLIC:
            return None
        if not request.user.is_authenticated:
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('account_login')}?{query}")
        if rule == SIGNED_IN:
            return None
        access: AccessContext | None = getattr(request, "access", None)
        if access is None or access.role not in rule:
            return render(request, "errors/403.html", status=403)
        return None


class RowLevelSecurityMiddleware:
    """Tells PostgreSQL's row-level security who is acting for this request (ADR 0022): the
    user, role and organisation, or nobody. Every request sets its own, so nothing carries
    over from the last request on the same connection; the earlier settings come back after.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not rls.enabled() or request.path.startswith(STATIC_PREFIXES):
            return self.get_response(request)
        access: AccessContext | None = getattr(request, "access", None)
        context = (
            rls.for_user(
                user_id=access.user.pk,
                organisation_id=access.organisation_id,
                role=access.role.value,
            )
            if access is not None
            else rls.NOBODY
        )
        with rls.acting(context):
            return self.get_response(request)
