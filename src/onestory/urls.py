from django.urls import include, path

from onestory.api import api
from onestory.core import views as core_views
from onestory.governance import views as governance_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("choose-role/", core_views.choose_role, name="choose_role"),
    path("security/", core_views.security, name="security"),
    path("accessibility/", core_views.accessibility, name="accessibility"),
    path("privacy-notice/", governance_views.privacy_notice, name="privacy_notice"),
    # MFA is required for every staff account, so it cannot be turned off: this page
    # shadows allauth's deactivation view and explains what to do instead.
    path(
        "accounts/2fa/totp/deactivate/",
        core_views.mfa_cannot_deactivate,
        name="mfa_cannot_deactivate",
    ),
    path("accounts/", include("allauth.account.urls")),
    path("accounts/2fa/", include("allauth.mfa.urls")),
    # Single sign-on (OpenID Connect): the providers' sign-in and return addresses.
    path("accounts/3rdparty/", include("allauth.socialaccount.urls")),
    path("accounts/", include("allauth.socialaccount.providers.openid_connect.urls")),
    path("", include("onestory.casework.urls")),
    path("", include("onestory.referrals.urls")),
    path("", include("onestory.meetings.urls")),
    path("directory/", include("onestory.directory.urls")),
    path("", include("onestory.insight.urls")),
    path("people/", include("onestory.people.urls")),
    path("people/", include("onestory.consent.urls")),
    path("admin-area/", include("onestory.access.urls")),
    path("audit/", include("onestory.audit.urls")),
    path("governance/", include("onestory.governance.urls")),
    path("privacy-reviews/", include("onestory.audit.review_urls")),
    path("imports/", include("onestory.intake.urls")),
    path("api-clients/", include("onestory.partner_api.urls")),
    path("", include("onestory.voice.urls")),
    path("", include("onestory.measures.urls")),
    path("api/v1/", api.urls),
]
