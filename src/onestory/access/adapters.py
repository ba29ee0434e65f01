"""allauth adapters: no self sign-up (administrators create accounts)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.http import HttpRequest


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """allauth authenticates with ``username=``; its form posts the field as ``login``."""
    if credentials and credentials.get("username"):
        return str(credentials["username"])
    value = request.POST.get("login") if request.method == "POST" else None
    return value or None


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def login(self, request: HttpRequest, user: Any) -> None:
        """Every sign-in decides afresh whether an identity provider vouched for a second
        factor: only a single sign-on that said so, just now, counts."""
        vouched = bool(request.session.pop(_PENDING_PROVIDER_MFA, False))
        super().login(request, user)
        request.session[SESSION_PROVIDER_MFA] = vouched

    def is_reauthentication_required(self, app: str = "") -> bool:
        """Setting up the first authenticator straight after signing in, and reading the
        recovery codes it comes with, should not ask for the password again: until it is
        set up the account can reach nothing else."""
        from allauth.core import context
        from allauth.mfa.models import Authenticator
        from django.conf import settings
        from django.utils import timezone

        request = context.request
        if app == "allauth.mfa" and request is not None and request.user.is_authenticated:
            first = (
                Authenticator.objects.filter(user=request.user, type=Authenticator.Type.TOTP)
                .order_by("created_at")
                .values_list("created_at", flat=True)
                .first()
            )
            window = timedelta(seconds=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT)
            if first is None or timezone.now() - first < window:
                return False
        return bool(super().is_reauthentication_required(app=app))


class MFAAdapter(DefaultMFAAdapter):  # type: ignore[misc]
    pass


# The "amr" values (RFC 8176) that say the identity provider checked a second factor.
MFA_AMR = {"mfa", "otp", "hwk", "swk", "sc", "fpt", "face", "pin"}
SESSION_PROVIDER_MFA = "onestory_mfa_by_provider"
_PENDING_PROVIDER_MFA = "onestory_pending_mfa_by_provider"


class SocialAccountAdapter(DefaultSocialAccountAdapter):  # type: ignore[misc]
    """Single sign-on connects to an account an administrator made; it never makes one."""

    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        """Remember whether the provider says it checked a second factor: if it did not,
        OneStory's own authenticator is still required (``RequireMFAMiddleware``)."""
        claims = (sociallogin.account.extra_data or {}).get("id_token") or {}
        amr = claims.get("amr") or []
        request.session[_PENDING_PROVIDER_MFA] = bool(MFA_AMR & set(amr))
