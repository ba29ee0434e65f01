"""Navigation for the acting role: each role sees only the pages it may use."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from onestory.access.roles import CASEWORK_ROLES, Role


def _nav(request: HttpRequest) -> list[dict[str, Any]]:
    access = getattr(request, "access", None)
    if access is None:
        return []
    items: list[tuple[str, str]] = [("Home", reverse("home"))]
    if access.role in CASEWORK_ROLES:
        items.append(("My caseload", reverse("casework:my_caseload")))
        if access.role in {Role.NAVIGATOR, Role.MANAGER}:
            items.append(("By-name list", reverse("insight:by_name_list")))
        items.append(("My people", reverse("people:list")))
        items.append(("Referrals", reverse("referrals:inbox")))
        items.append(("Alerts", reverse("referrals:alerts")))
        items.append(("Meetings", reverse("meetings:list")))
        items.append(("Actions", reverse("meetings:actions")))
        items.append(("Safeguarding", reverse("casework:safeguarding_list")))
        items.append(("Directory", reverse("directory:list")))
        items.append(("Barriers", reverse("voice:board")))
    if access.role in {Role.MANAGER, Role.ANALYST, Role.BOARD_MEMBER}:
        items.append(("Insight", reverse("insight:dashboard")))
        items.append(("Outcomes", reverse("measures:outcomes")))
        items.append(("Working together", reverse("meetings:working_together")))
    if access.role == Role.BOARD_MEMBER:
        items.append(("Barriers", reverse("voice:board")))
    if access.role == Role.MANAGER:
        items.append(("Budgets", reverse("casework:budgets")))
        items.append(("Deaths", reverse("casework:deaths")))
        items.append(("Access review", reverse("governance:access_review")))
    if access.role == Role.DATA_MANAGER:
        items.append(("Imports", reverse("intake:imports")))
        items.append(("Review matches", reverse("intake:review")))
    if access.role in {Role.MANAGER, Role.DATA_MANAGER, Role.ADMINISTRATOR}:
        items.append(("API clients", reverse("partner_api:list")))
    if access.role == Role.PRIVACY_OFFICER:
        items.append(("Audit trail", reverse("audit:list")))
        items.append(("Information requests", reverse("governance:index")))
        items.append(("Reviews", reverse("privacy:reviews")))
    if access.role == Role.ADMINISTRATOR:
        items += [
            ("Organisations", reverse("admin_area:organisations")),
            ("Users", reverse("admin_area:users")),
            ("Agreements", reverse("admin_area:agreements")),
            ("Questionnaires", reverse("measures:instruments")),
        ]
    items.append(("Security", reverse("security")))
    path = request.path
    out = []
    for text, href in items:
        # "My caseload" is /caseload/; the team and migration pages sit under it too.
        active = path == href if href == "/" else path.startswith(href)
        out.append({"text": text, "href": href, "active": active})
    return out


def onestory(request: HttpRequest) -> dict[str, Any]:
    several = getattr(request, "has_several_roles", None)  # ActingMembershipMiddleware
    if several is None:
        several = (
            request.user.is_authenticated
            and request.user.memberships.filter(is_active=True).count() > 1
        )
    return {"nav_items": _nav(request), "has_several_roles": several}
