"""The crawl behind test_crawl*.py: every page, as a persona sees it, at 1280 px and
375 px. axe-core must find no violations, the GOV.UK styles must have applied, and the
browser must have seen no CSP violation, script error or failed resource.

A persona signs in once, through the real sign-in and security-code pages, then visits
every page its role can reach, plus the 403 and 404 pages as it sees them, plus the error
states of the forms it can submit. Problems are collected rather than raised one at a time,
so one run shows everything to fix. COVERAGE (at the end) says where each URL is checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.test import Client
from playwright.sync_api import Page

from onestory.consent.models import DataSharingAgreement, SharingDecision
from tests.browser.a11y import page_problems
from tests.browser.auth import sign_in
from tests.conftest import PASSWORD, World
from tests.test_access_matrix import (
    _action,
    _alert,
    _api_client,
    _barrier,
    _bob,
    _concern,
    _death,
    _feedback_path,
    _goal,
    _identity,
    _meeting,
    _migration_run,
    _nav_event,
    _old_case,
    _pair,
    _panel_meeting,
    _privacy_review,
    _recommendation,
    _rectification,
    _referral,
    _review,
    _sar,
    _service,
    _story,
)

FEEDBACK = {"listened": "yes", "told_once": "no", "have_a_say": "a_bit", "right_help": "yes"}
CASEWORK = frozenset({"navigator", "practitioner", "peer_mentor", "manager", "outsider"})
RELATED = CASEWORK - {"outsider"}  # organisations with a relationship with Alice
EDITORS = RELATED - {"peer_mentor"}  # may edit About me and record sharing decisions
OTHER_ROLES = frozenset(
    {"analyst", "data_manager", "privacy_officer", "board_member", "administrator"}
)
EVERYONE = CASEWORK | OTHER_ROLES
# Pages whose content does not depend on the role (allauth's account pages): one persona
# checks them; the header that does vary is checked on every other page.
REPRESENTATIVE = frozenset({"navigator"})
ADMIN = frozenset({"administrator"})
PRIVACY = frozenset({"privacy_officer"})
DATA = frozenset({"data_manager"})
MANAGER = frozenset({"manager"})
NAVIGATORS = frozenset({"navigator", "manager"})  # the navigators' organisation, recording


def _indicators() -> int:
    """A Fingertips export loaded, so the charts are drawn; returns how many values."""
    from pathlib import Path

    from onestory.measures.models import IndicatorValue
    from onestory_engine import fingertips

    sample = Path(__file__).parents[1] / "data" / "fingertips_sample.csv"
    for row in fingertips.read(sample.read_bytes()).rows:
        IndicatorValue.objects.get_or_create(
            indicator_id=row.indicator_id, area_code=row.area_code, sex=row.sex, age=row.age,
            period=row.period,
            defaults={"indicator_name": row.indicator_name, "area_name": row.area_name,
                      "value": row.value, "lower_ci": row.lower_ci, "upper_ci": row.upper_ci},
        )  # fmt: skip
    return IndicatorValue.objects.count()


def _alice(w: World) -> int:
    return w.alice.pk


def _with_pair(w: World, path: str) -> str:
    """``path``, once the review queue holds a pending pair (as the access matrix makes)."""
    _pair(w)
    return path


def _broken_glass(w: World, persona: str) -> int:
    """Bob, with a break glass in force for this persona (no organisation works with him)."""
    from datetime import timedelta

    from django.utils import timezone

    from onestory.access.models import BreakGlass

    user = w.user(persona)
    membership = user.memberships.get()
    if not BreakGlass.objects.filter(user=user, person=w.bob).exists():
        now = timezone.now()
        BreakGlass.objects.create(
            person=w.bob, user=user, organisation=membership.organisation, role=membership.role,
            reason="vital_interests", explanation="Collapsed in the street.", started_at=now,
            expires_at=now + timedelta(hours=4),
        )  # fmt: skip
    return w.bob.pk


def _decision(w: World) -> int:
    decision = SharingDecision.objects.filter(person=w.alice, organisation=w.nav_org).first()
    assert decision is not None
    return decision.pk


@dataclass(frozen=True)
class Visit:
    label: str
    path: Callable[[World], str]
    who: frozenset[str]  # personas who get this page; the others are not sent to it
    status: int = 200
    after: Callable[[Crawler], None] | None = field(default=None, compare=False)


def _filter_timeline(crawler: Crawler) -> None:
    """Filter the timeline with its select (htmx swaps #timeline) and check the result."""
    page = crawler.page
    options = page.locator("#id_category option")
    if options.count() < 2:
        return
    value = options.nth(1).get_attribute("value") or ""
    with page.expect_response(lambda r: "partial=timeline" in r.url) as swap:
        page.select_option("#id_category", value)
    assert swap.value.ok, f"timeline filter answered {swap.value.status}"
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    crawler.check(f"person, timeline filtered to {value!r} with htmx")


PAGES: list[Visit] = [
    Visit("home", lambda w: "/", EVERYONE),
    Visit("my people", lambda w: "/people/", CASEWORK),
    Visit("my people, searched", lambda w: "/people/?q=Marsh", CASEWORK),
    Visit("my people, no match", lambda w: "/people/?q=Nobody", REPRESENTATIVE),
    Visit("person", lambda w: f"/people/{_alice(w)}/", RELATED, after=_filter_timeline),
    Visit("About me: edit", lambda w: f"/people/{_alice(w)}/about-me/", EDITORS),
    Visit("About me: history", lambda w: f"/people/{_alice(w)}/about-me/history/", RELATED),
    Visit("sharing decisions", lambda w: f"/people/{_alice(w)}/sharing/", EDITORS),
    Visit("record a sharing decision", lambda w: f"/people/{_alice(w)}/sharing/new/", EDITORS),
    Visit(
        "withdraw sharing",
        lambda w: f"/people/{_alice(w)}/sharing/{_decision(w)}/withdraw/",
        EDITORS,
    ),
    Visit("my caseload", lambda w: "/caseload/", CASEWORK),
    Visit("caseloads in the team", lambda w: "/caseload/team/", MANAGER),
    Visit("caseload upload", lambda w: "/caseload/migrate/", MANAGER),
    Visit(
        "caseload upload report",
        lambda w: f"/caseload/migrate/{_migration_run(w)}/",
        MANAGER,
    ),
    Visit("add someone new", lambda w: "/people/new/", NAVIGATORS | {"outsider"}),
    Visit("allocate", lambda w: f"/people/{_alice(w)}/allocate/", NAVIGATORS),
    Visit("contacts", lambda w: f"/people/{_alice(w)}/contacts/", RELATED),
    Visit("support plan", lambda w: f"/people/{_alice(w)}/plan/", RELATED),
    Visit("support plan: edit", lambda w: f"/people/{_alice(w)}/plan/edit/", NAVIGATORS),
    Visit("goal: new", lambda w: f"/people/{_alice(w)}/goals/new/", NAVIGATORS),
    Visit("goal", lambda w: f"/people/{_alice(w)}/goals/{_goal(w)}/", NAVIGATORS | {"peer_mentor"}),
    Visit("review: schedule", lambda w: f"/people/{_alice(w)}/reviews/new/", NAVIGATORS),
    Visit("review: record", lambda w: f"/people/{_alice(w)}/reviews/{_review(w)}/", NAVIGATORS),
    Visit("close support", lambda w: f"/people/{_alice(w)}/close/", MANAGER),
    Visit("safety", lambda w: f"/people/{_alice(w)}/safety/", RELATED),
    Visit(
        "raise a safeguarding concern",
        lambda w: f"/people/{_alice(w)}/safeguarding/new/",
        RELATED,
    ),
    Visit("personal budget", lambda w: f"/people/{_alice(w)}/spends/", RELATED),
    Visit("safeguarding concerns", lambda w: "/safeguarding/", CASEWORK),
    Visit("safeguarding concern", lambda w: f"/safeguarding/{_concern(w)}/", NAVIGATORS),
    Visit("deaths", lambda w: "/deaths/", MANAGER),
    Visit("death review", lambda w: f"/deaths/{_death(w)}/", MANAGER),
    Visit("budgets", lambda w: "/budgets/", MANAGER),
    Visit(
        "make a referral",
        lambda w: f"/people/{_alice(w)}/refer/",
        frozenset({"navigator", "practitioner"}),
    ),
    Visit("referrals received", lambda w: "/referrals/", CASEWORK),
    Visit("referrals sent", lambda w: "/referrals/?show=sent", CASEWORK),
    Visit(
        "a referral",
        lambda w: f"/referrals/{_referral(w)}/",
        frozenset({"navigator", "practitioner", "manager"}),
    ),
    Visit("alerts", lambda w: (_alert(w), "/alerts/")[1], CASEWORK),
    Visit("meetings", lambda w: "/meetings/", CASEWORK),
    Visit(
        "by-name list", lambda w: "/by-name-list/", frozenset({"navigator", "manager", "outsider"})
    ),
    Visit("by-name list, unallocated", lambda w: "/by-name-list/?show=unallocated", MANAGER),
    Visit("record what happened", lambda w: f"/people/{_alice(w)}/events/new/", EDITORS),
    Visit(
        "working together",
        lambda w: (_referral(w), _action(w), "/measures/working-together/")[2],
        frozenset({"manager", "analyst", "board_member"}),
    ),
    Visit("team around the person", lambda w: f"/people/{_alice(w)}/team/", EDITORS),
    Visit("service directory", lambda w: (_service(w), "/directory/")[1], CASEWORK),
    Visit("service directory, filtered", lambda w: "/directory/?needs=drop_in&q=hub", CASEWORK),
    Visit("a service", lambda w: f"/directory/{_service(w)}/", CASEWORK),
    Visit("add a service", lambda w: "/directory/new/", MANAGER),
    Visit("edit a service", lambda w: f"/directory/{_service(w)}/edit/", MANAGER),
    Visit(
        "a meeting",
        lambda w: f"/meetings/{_meeting(w)}/",
        frozenset({"navigator", "manager", "peer_mentor", "practitioner"}),
    ),
    Visit("actions", lambda w: (_action(w), "/actions/")[1], CASEWORK),
    Visit("an action", lambda w: f"/actions/{_action(w)}/", NAVIGATORS | {"peer_mentor"}),
    Visit(
        "barriers",
        lambda w: (_barrier(w), "/barriers/")[1],
        CASEWORK | {"board_member"},
    ),
    Visit("barriers, overdue", lambda w: "/barriers/?status=overdue", frozenset({"board_member"})),
    Visit("log a barrier", lambda w: "/barriers/new/", CASEWORK),
    Visit(
        "a barrier",
        lambda w: f"/barriers/{_barrier(w)}/",
        frozenset({"navigator", "manager", "board_member"}),
    ),
    Visit(
        "barrier themes",
        lambda w: (_barrier(w), "/barriers/themes/")[1],
        frozenset({"manager", "board_member"}),
    ),
    Visit("measures", lambda w: f"/people/{_alice(w)}/measures/", RELATED),
    Visit("record an NDTA", lambda w: f"/people/{_alice(w)}/measures/ndta/new/", NAVIGATORS),
    Visit(
        "record wellbeing (ONS4)", lambda w: f"/people/{_alice(w)}/measures/ons4/new/", NAVIGATORS
    ),
    Visit("outcomes", lambda w: "/outcomes/", frozenset({"manager", "analyst", "board_member"})),
    Visit(
        "outcomes by a protected characteristic",
        lambda w: "/outcomes/equality/?characteristic=age",
        frozenset({"manager", "analyst", "board_member"}),
    ),
    Visit(
        "outcomes by a characteristic, with an error",
        lambda w: "/outcomes/equality/?characteristic=nonsense",
        frozenset({"analyst"}),
    ),
    Visit("equality monitoring", lambda w: f"/people/{_alice(w)}/equality/", RELATED),
    Visit(
        "outcome records for an evaluator",
        lambda w: "/outcomes/evaluation-export/",
        frozenset({"manager", "analyst"}),
    ),
    Visit(
        "public health outcomes",
        lambda w: (_indicators(), "/outcomes/public-health/")[1],
        frozenset({"manager", "analyst", "board_member"}),
    ),
    Visit(
        "service use and its cost",
        lambda w: "/outcomes/service-costs/",
        frozenset({"manager", "analyst", "board_member"}),
    ),
    Visit("ask for feedback", lambda w: "/feedback/new/", CASEWORK),
    Visit("kiosk mode", lambda w: "/feedback/kiosk/start/", CASEWORK),
    Visit(
        "what people told us",
        lambda w: (Client().post(_feedback_path(w), FEEDBACK), "/feedback/results/")[1],
        frozenset({"manager", "board_member", "analyst"}),
    ),
    Visit("speak up anonymously", lambda w: "/speak-up/", EVERYONE),
    Visit("speak up: sent", lambda w: "/speak-up/?sent=1", REPRESENTATIVE),
    Visit("lived experience panel", lambda w: "/panel/", frozenset({"manager", "board_member"})),
    Visit(
        "a panel meeting",
        lambda w: f"/panel/{_panel_meeting(w)}/",
        frozenset({"manager", "board_member"}),
    ),
    Visit(
        "a panel recommendation",
        lambda w: f"/panel/recommendations/{_recommendation(w)}/",
        frozenset({"manager", "board_member"}),
    ),
    Visit("security", lambda w: "/security/", EVERYONE),
    Visit("authenticator app and recovery codes", lambda w: "/accounts/2fa/", EVERYONE),
    Visit(
        "organisation accounts (single sign-on)", lambda w: "/accounts/3rdparty/", REPRESENTATIVE
    ),
    Visit("change password", lambda w: "/accounts/password/change/", EVERYONE),
    Visit("accessibility statement", lambda w: "/accessibility/", EVERYONE),
    Visit("choose role", lambda w: "/choose-role/", REPRESENTATIVE),
    Visit(
        "cannot turn off the authenticator",
        lambda w: "/accounts/2fa/totp/deactivate/",
        REPRESENTATIVE,
    ),
    Visit("email addresses", lambda w: "/accounts/email/", REPRESENTATIVE),
    Visit("confirm your password", lambda w: "/accounts/reauthenticate/", REPRESENTATIVE),
    Visit(
        "confirm with your authenticator", lambda w: "/accounts/2fa/reauthenticate/", REPRESENTATIVE
    ),
    Visit("sign out?", lambda w: "/accounts/logout/", REPRESENTATIVE),
    Visit("organisations", lambda w: "/admin-area/organisations/", ADMIN),
    Visit("organisation: new", lambda w: "/admin-area/organisations/new/", ADMIN),
    Visit("organisation: edit", lambda w: f"/admin-area/organisations/{w.police_org.pk}/", ADMIN),
    Visit(
        "service: new",
        lambda w: f"/admin-area/organisations/{w.housing_org.pk}/services/new/",
        ADMIN,
    ),
    Visit("users", lambda w: "/admin-area/users/", ADMIN),
    # Partner API clients (ADR 0019): managers for their organisation, administrators too.
    Visit("API clients", lambda w: "/api-clients/", MANAGER | DATA | ADMIN),
    Visit("API client: new", lambda w: "/api-clients/new/", MANAGER | DATA),
    Visit("API client", lambda w: f"/api-clients/{_api_client(w)}/", MANAGER),
    Visit("user: new", lambda w: "/admin-area/users/new/", ADMIN),
    Visit("user: detail", lambda w: f"/admin-area/users/{w.user('outsider').pk}/", ADMIN),
    Visit("agreements", lambda w: "/admin-area/agreements/", ADMIN),
    Visit("agreement: new", lambda w: "/admin-area/agreements/new/", ADMIN),
    Visit(
        "agreement: edit",
        lambda w: f"/admin-area/agreements/{DataSharingAgreement.objects.get().pk}/",
        ADMIN,
    ),
    Visit("review queue", lambda w: _with_pair(w, "/imports/review/"), DATA),
    Visit("review a pair", lambda w: f"/imports/review/{_pair(w)}/", DATA),
    Visit("a person's identity records", lambda w: f"/imports/identity/{_identity(w)}/", DATA),
    Visit("audit trail", lambda w: "/audit/", PRIVACY),
    Visit("audit trail, one person", lambda w: f"/audit/?person={_alice(w)}", PRIVACY),
    Visit("audit trail check", lambda w: "/audit/check/", PRIVACY),
    Visit("information requests", lambda w: (_sar(w), "/governance/")[1], PRIVACY),
    Visit(
        "subject access: find the person",
        lambda w: "/governance/subject-access/new/?q=Marsh",
        PRIVACY,
    ),
    Visit(
        "subject access: nobody found",
        lambda w: "/governance/subject-access/new/?q=Nobody",
        PRIVACY,
    ),
    Visit("subject access request", lambda w: f"/governance/subject-access/{_sar(w)}/", PRIVACY),
    Visit(
        "correction request",
        lambda w: f"/governance/rectification/{_rectification(w)}/",
        PRIVACY,
    ),
    Visit("how we use your information", lambda w: "/privacy-notice/", REPRESENTATIVE),
    Visit("access review", lambda w: "/governance/access-review/", MANAGER),
    Visit("retention reviews", lambda w: (_old_case(w), "/governance/retention/")[1], PRIVACY),
    Visit("retention review", lambda w: f"/governance/retention/{_old_case(w)}/", PRIVACY),
    # Trust: break glass, claimed relationships, sealing, corrections, the review queue.
    Visit(
        "404: a person with no relationship, with break glass and claiming offered",
        lambda w: f"/people/{_bob(w)}/",
        frozenset({"navigator"}),
        status=404,
    ),
    Visit(
        "break glass",
        lambda w: f"/people/{_bob(w)}/break-glass/",
        frozenset({"navigator", "practitioner", "outsider"}),
    ),
    Visit(
        "claim a relationship",
        lambda w: f"/people/{_bob(w)}/claim/",
        frozenset({"navigator", "outsider"}),
    ),
    Visit(
        "person, by break glass (read-only, until when)",
        lambda w: f"/people/{_broken_glass(w, 'practitioner')}/",
        frozenset({"practitioner"}),
    ),
    Visit(
        "support plan, by break glass",
        lambda w: f"/people/{_broken_glass(w, 'practitioner')}/plan/",
        frozenset({"practitioner"}),
    ),
    Visit(
        "seal an entry",
        lambda w: f"/people/{_alice(w)}/entries/timeline/{_nav_event(w)}/seal/",
        NAVIGATORS,
    ),
    Visit("support plan: every version", lambda w: f"/people/{_alice(w)}/plan/history/", RELATED),
    Visit("reviews", lambda w: (_privacy_review(w), "/privacy-reviews/")[1], PRIVACY),
    Visit("a review", lambda w: f"/privacy-reviews/{_privacy_review(w)}/", PRIVACY),
    # The refusal pages, as each persona meets them.
    Visit("404: no such page", lambda w: "/no-such-page/", EVERYONE, status=404),
    # "Not yours" answers 404 like "does not exist" (SECURITY.md rule 1).
    Visit(
        "404: a person with no relationship",
        lambda w: f"/people/{_alice(w)}/",
        frozenset({"outsider"}),
        status=404,
    ),
    Visit("403: the audit trail", lambda w: "/audit/", EVERYONE - PRIVACY, status=403),
    Visit("403: users", lambda w: "/admin-area/users/", PRIVACY, status=403),
]

# Forms submitted empty (or wrong), to check their error states; and one success banner.
# (label, path, submit button)
NAVIGATOR_FORMS: list[tuple[str, Callable[[World], str], str]] = [
    ("record a sharing decision", lambda w: f"/people/{_alice(w)}/sharing/new/", ""),
    (
        "withdraw sharing",
        lambda w: f"/people/{_alice(w)}/sharing/{_decision(w)}/withdraw/",
        "",
    ),
    ("change password", lambda w: "/accounts/password/change/", ""),
    ("add someone new", lambda w: "/people/new/", ""),
    ("contacts", lambda w: f"/people/{_alice(w)}/contacts/", ""),
    ("goal: new", lambda w: f"/people/{_alice(w)}/goals/new/", ""),
    ("review: schedule", lambda w: f"/people/{_alice(w)}/reviews/new/", ""),
    ("safety", lambda w: f"/people/{_alice(w)}/safety/", ""),
    ("raise a safeguarding concern", lambda w: f"/people/{_alice(w)}/safeguarding/new/", ""),
    ("make a referral", lambda w: f"/people/{_alice(w)}/refer/", ""),
    ("team around the person", lambda w: f"/people/{_alice(w)}/team/", ""),
    ("log a barrier", lambda w: "/barriers/new/", ""),
    ("speak up anonymously", lambda w: "/speak-up/", ""),
    ("record an NDTA", lambda w: f"/people/{_alice(w)}/measures/ndta/new/", ""),
    ("staff survey", lambda w: "/staff-survey/", ""),
    ("break glass", lambda w: f"/people/{_bob(w)}/break-glass/", ""),
    ("claim a relationship", lambda w: f"/people/{_bob(w)}/claim/", ""),
]
PRACTITIONER_FORMS: list[tuple[str, Callable[[World], str], str]] = [
    (
        "answer a referral",
        lambda w: f"/referrals/{_referral(w)}/",
        "main form:has(input[name=action][value=decide]) button[type=submit]",
    ),
]
MANAGER_FORMS: list[tuple[str, Callable[[World], str], str]] = [
    ("outcome records for an evaluator", lambda w: "/outcomes/evaluation-export/", ""),
    ("close support", lambda w: f"/people/{_alice(w)}/close/", ""),
    ("budgets", lambda w: "/budgets/", ""),
    ("caseload upload", lambda w: "/caseload/migrate/", ""),
    ("add a service", lambda w: "/directory/new/", ""),
]
ADMIN_FORMS: list[tuple[str, Callable[[World], str], str]] = [
    ("organisation: new", lambda w: "/admin-area/organisations/new/", ""),
    (
        "service: new",
        lambda w: f"/admin-area/organisations/{w.housing_org.pk}/services/new/",
        "",
    ),
    ("user: new", lambda w: "/admin-area/users/new/", ""),
    ("agreement: new", lambda w: "/admin-area/agreements/new/", ""),
    ("questionnaires: add", lambda w: "/admin-area/questionnaires/", ""),
    (
        "user: give a role",
        lambda w: f"/admin-area/users/{w.user('outsider').pk}/",
        "main button[name=action][value=add]",
    ),
]
PRIVACY_FORMS: list[tuple[str, Callable[[World], str], str]] = [
    ("a review", lambda w: f"/privacy-reviews/{_privacy_review(w)}/", ""),
    (
        "subject access: find, with nothing entered",
        lambda w: "/governance/subject-access/new/",
        "main form[method=get] button[type=submit]",
    ),
    (
        "subject access: record",
        lambda w: f"/governance/subject-access/new/?person={w.alice.pk}",
        "",
    ),
    (
        "subject access: extend",
        lambda w: f"/governance/subject-access/{_sar(w)}/",
        "main form:has(input[name=step][value=extend]) button[type=submit]",
    ),
    (
        "correction: record",
        lambda w: f"/governance/rectification/new/?person={w.alice.pk}",
        "",
    ),
    ("correction: decide", lambda w: f"/governance/rectification/{_rectification(w)}/", ""),
    (
        "retention: destroy without confirming",
        lambda w: f"/governance/retention/{_old_case(w)}/",
        "main form:has(input[name=step][value=destroy]) button[type=submit]",
    ),
    (
        "retention: keep without a reason",
        lambda w: f"/governance/retention/{_old_case(w)}/",
        "main form:has(input[name=step][value=hold]) button[type=submit]",
    ),
]
DATA_MANAGER_FORMS: list[tuple[str, Callable[[World], str], str]] = [
    ("import a feed", lambda w: "/imports/", ""),
]
BOARD_FORMS: list[tuple[str, Callable[[World], str], str]] = [
    ("panel: record a meeting", lambda w: "/panel/", ""),
    ("panel: add a recommendation", lambda w: f"/panel/{_panel_meeting(w)}/", ""),
    (
        "barrier: assign",
        lambda w: f"/barriers/{_barrier(w)}/",
        "main form:has(input[name=action][value=assign]) button[type=submit]",
    ),
]
FORMS = {
    "board_member": BOARD_FORMS,
    "navigator": NAVIGATOR_FORMS,
    "manager": MANAGER_FORMS,
    "practitioner": PRACTITIONER_FORMS,
    "administrator": ADMIN_FORMS,
    "data_manager": DATA_MANAGER_FORMS,
    "privacy_officer": PRIVACY_FORMS,
}
SUBMIT = "main form[method=post] button[type=submit]"


# GOV.UK error pattern: each summary link leads to the field, and each field's error
# message is announced with the field (aria-describedby).
_ERROR_LINKS = """() => {
  const wrong = [];
  for (const a of document.querySelectorAll(".govuk-error-summary a[href^='#']")) {
    if (!document.getElementById(a.getAttribute("href").slice(1))) {
      wrong.push(`error summary link ${a.getAttribute("href")} leads nowhere`);
    }
  }
  const described = new Set([...document.querySelectorAll("[aria-describedby]")]
    .flatMap(el => el.getAttribute("aria-describedby").split(/\\s+/)));
  for (const message of document.querySelectorAll(".govuk-error-message")) {
    if (!message.id || !described.has(message.id)) {
      wrong.push(`error message not linked to its field: ${message.textContent.trim()}`);
    }
  }
  return wrong;
}"""


# A feed with one usable row and one without an ID (set aside, so the report lists it).
REGISTER_CSV = b"source_record_id,given_name,family_name\nR1,Ann,Ray\n,No,Id\n"


class Crawler:
    """Visits pages on one signed-in page, collecting every problem."""

    def __init__(self, page: Page, base: str, persona: str) -> None:
        self.page, self.base, self.persona = page, base, persona
        self.problems: list[str] = []
        self.checked = 0

    def problem(self, label: str, text: str) -> None:
        self.problems.append(f"--- {self.persona}: {label} ({self.page.url})\n{text}")

    def check(self, label: str) -> None:
        self.checked += 1
        found = page_problems(self.page)
        if found:
            self.problem(label, "\n".join(found))

    def visit(self, label: str, path: str, status: int = 200) -> bool:
        response = self.page.goto(self.base + path)
        assert response is not None
        if response.status != status:
            self.problem(label, f"answered {response.status}, expected {status}")
            return False
        self.check(label)
        return True

    def submit(self, label: str, button: str = "", *, expect_errors: bool = True) -> None:
        """Submit the form on the page as it stands, then check the page that answers."""
        with self.page.expect_navigation() as navigation:
            self.page.locator(button or SUBMIT).last.click()
        response = navigation.value
        assert response is not None
        if response.status != 200:
            self.problem(label, f"answered {response.status}, expected 200")
            return
        if expect_errors:
            if self.page.locator(".govuk-error-summary").count() != 1:
                self.problem(label, "the form's errors are not summarised at the top")
            for wrong in self.page.evaluate(_ERROR_LINKS):
                self.problem(label, wrong)
            if not self.page.title().startswith("Error: "):
                self.problem(label, f"title does not start 'Error: ': {self.page.title()!r}")
        self.check(label)

    def assert_clean(self) -> None:
        assert not self.problems, (
            f"{len(self.problems)} problem(s) in {self.checked} page check(s) as "
            f"{self.persona}:\n" + "\n".join(self.problems)
        )


def _save_about_me(crawler: Crawler, world: World) -> None:
    """Saving About me unchanged makes a new version and says so in a banner."""
    if crawler.visit("About me: edit", f"/people/{_alice(world)}/about-me/"):
        crawler.submit("About me saved: success banner", expect_errors=False)
        if crawler.page.locator(".govuk-notification-banner--success").count() != 1:
            crawler.problem("About me saved", "no success banner")


def _import_a_feed(crawler: Crawler, world: World) -> None:
    """Upload a feed through the form: the report, then the list of recent imports."""
    page = crawler.page
    if not crawler.visit("import a feed", "/imports/"):
        return
    page.check("input[name=kind][value=register]")
    page.fill("input[name=source]", "nav_register")
    page.set_input_files(
        "input[name=file]",
        files={"name": "register.csv", "mimeType": "text/csv", "buffer": REGISTER_CSV},
    )
    crawler.submit("import report, after an upload", expect_errors=False)
    if "/imports/" not in page.url or page.url.rstrip("/").endswith("/imports"):
        crawler.problem("import a feed", "the upload did not lead to its report")
    elif page.locator("main table tbody tr").count() != 1:
        crawler.problem("import report", "the row without an ID is not listed as set aside")
    crawler.visit("import a feed, with a recent import", "/imports/")


SUCCESSES: dict[str, Callable[[Crawler, World], None]] = {
    "navigator": _save_about_me,
    "data_manager": _import_a_feed,
}


def crawl(persona: str, page: Page, live_server: Any, world: World) -> None:
    crawler = Crawler(page, live_server.url, persona)
    # The sign-in pages are the same for everyone (no one is signed in yet): checked on one
    # persona's way in here, and with their error states in the signed-out crawl.
    representative = persona in REPRESENTATIVE
    sign_in(
        page,
        live_server,
        world.user(persona).username,
        on_login_page=(lambda p: crawler.check("sign in")) if representative else None,
        on_mfa_page=(
            (lambda p: crawler.check("enter your security code")) if representative else None
        ),
    )
    for visit in PAGES:
        if persona in visit.who:
            shown = crawler.visit(visit.label, visit.path(world), visit.status)
            if shown and visit.after is not None:
                visit.after(crawler)
    for label, path, button in FORMS.get(persona, []):
        if crawler.visit(label, path(world)):
            crawler.submit(f"{label}, with errors", button)
    if persona in SUCCESSES:
        SUCCESSES[persona](crawler, world)
    crawler.assert_clean()


def crawl_signed_out(page: Page, live_server: Any, world: World) -> None:
    """The pages someone meets before signing in, with the sign-in error states."""
    crawler = Crawler(page, live_server.url, "signed out")
    for label, path, status in [
        ("reset your password", "/accounts/password/reset/", 200),
        ("password reset sent", "/accounts/password/reset/done/", 200),
        ("bad password reset link", "/accounts/password/reset/key/1-not-a-key/", 200),
        ("password reset done", "/accounts/password/reset/key/done/", 200),
        ("confirm your email: sent", "/accounts/confirm-email/", 200),
        ("confirm your email: bad link", "/accounts/confirm-email/not-a-key/", 200),
        ("sign-up closed", "/accounts/signup/", 200),
        ("account inactive", "/accounts/inactive/", 200),
        ("accessibility statement", "/accessibility/", 200),
        ("single sign-on cancelled", "/accounts/3rdparty/login/cancelled/", 200),
        ("single sign-on failed", "/accounts/3rdparty/login/error/", 401),
        ("how we use your information", "/privacy-notice/", 200),
        ("you said, we did", (_story(world), "/you-said-we-did/")[1], 200),
        ("feedback: thank you", "/f/thank-you/", 200),
        ("feedback: kiosk mode is off", "/f/kiosk/", 403),
        ("feedback: a link that is not right", "/f/not-a-real-token-at-all/", 404),
        ("feedback", _feedback_path(world), 200),
        ("404: no such page", "/no-such-page/", 404),
        ("sign in", "/accounts/login/", 200),
    ]:
        if crawler.visit(label, path, status) and label == "feedback":
            crawler.submit("feedback, with errors")
    crawler.submit("sign in, with errors: nothing entered")
    username = world.user("navigator").get_username()
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", "not-the-password")
    crawler.submit("sign in, with errors: wrong password")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.locator("main button[type=submit]").first.click()
    assert "/accounts/2fa/authenticate/" in page.url, page.url
    page.fill("input[name=code]", "000000")
    crawler.submit(
        "enter your security code, with errors",
        "main button[type=submit]:has-text('Continue')",
    )
    crawler.assert_clean()


# Where each named URL is checked in a browser. tests/browser/test_crawl.py fails when a
# URL is added without saying here how (or why not).
COVERAGE: dict[str, str] = {
    "home": "crawl",
    "casework:my_caseload": "crawl; test_navigator_week.py",
    "casework:team_caseloads": "crawl",
    "casework:migrate": "crawl, with errors",
    "casework:migration": "crawl",
    "casework:person_add": "crawl, with errors",
    "casework:allocate": "crawl; test_navigator_week.py",
    "casework:contacts": "crawl, with errors; test_navigator_week.py",
    "casework:plan": "crawl; test_navigator_week.py",
    "casework:plan_edit": "crawl",
    "casework:goal_new": "crawl, with errors; test_navigator_week.py",
    "casework:goal": "crawl; test_navigator_week.py",
    "casework:review_new": "crawl, with errors; test_navigator_week.py",
    "casework:review": "crawl",
    "casework:close": "crawl, with errors",
    "casework:safety": "crawl, with errors; test_navigator_week.py",
    "casework:safeguarding_new": "crawl, with errors",
    "casework:spends": "crawl",
    "casework:safeguarding_list": "crawl",
    "casework:safeguarding_concern": "crawl",
    "casework:deaths": "crawl",
    "casework:death": "crawl",
    "casework:budgets": "crawl, with errors",
    "referrals:new": "crawl, with errors",
    "referrals:inbox": "crawl",
    "referrals:detail": "crawl, the receiver's answer with errors",
    "referrals:alerts": "crawl",
    "meetings:list": "crawl; test_team_working.py",
    "directory:list": "crawl, searched and filtered",
    "meetings:working_together": "crawl (manager exact; analyst and board suppressed)",
    "people:team": "crawl, with errors",
    "insight:by_name_list": "crawl (a lead navigation organisation, and one that is not)",
    "insight:dashboard": "crawl (manager exact; analyst and board suppressed)",
    "referrals:event_new": "crawl",
    "directory:detail": "crawl",
    "directory:new": "crawl, with errors",
    "directory:edit": "crawl",
    "meetings:detail": "crawl; test_team_working.py",
    "meetings:actions": "crawl; test_team_working.py",
    "meetings:action": "crawl",
    "people:list": "crawl",
    "people:detail": "crawl, with the htmx timeline filter; test_person_page.py",
    "people:about_me_edit": "crawl, with a successful save",
    "people:about_me_history": "crawl",
    "consent:sharing": "crawl",
    "consent:sharing_new": "crawl, with errors",
    "consent:sharing_withdraw": "crawl, with errors",
    "security": "crawl",
    "accessibility": "crawl, signed in and out",
    "choose_role": "crawl",
    "admin_area:organisations": "crawl",
    "admin_area:organisation_new": "crawl, with errors",
    "admin_area:organisation_edit": "crawl",
    "admin_area:service_new": "crawl, with errors",
    "admin_area:users": "crawl",
    "admin_area:user_new": "crawl, with errors",
    "admin_area:user": "crawl, with errors",
    "admin_area:agreements": "crawl",
    "admin_area:agreement_new": "crawl, with errors",
    "admin_area:agreement_edit": "crawl",
    "audit:list": "crawl",
    "audit:check": "crawl",
    "privacy_notice": "crawl, signed in and out",
    "governance:index": "crawl; test_governance.py",
    "governance:sar_new": "crawl (search, nobody found, with errors); test_governance.py",
    "governance:sar_detail": "crawl (extend, with errors); test_governance.py",
    "governance:sar_download": "not a page: a JSON or PDF download (test_governance.py)",
    "governance:rectification_new": "crawl, with errors; test_governance.py",
    "governance:rectification_detail": "crawl, with errors; test_governance.py",
    "governance:access_review": "crawl; test_governance.py",
    "governance:retention": "crawl; test_governance.py",
    "governance:retention_review": "crawl (destroy and keep, with errors); test_governance.py",
    "people:break_glass": "crawl, with errors; test_break_glass_journey.py",
    "people:claim": "crawl, with errors",
    "people:entry_seal": "crawl",
    "casework:plan_history": "crawl",
    "privacy:reviews": "crawl; test_break_glass_journey.py",
    "privacy:review": "crawl, with errors; test_break_glass_journey.py",
    "intake:imports": "crawl, with errors and an upload",
    "intake:report": "crawl, after an upload",
    "intake:review": "crawl, with a pending pair",
    "intake:review_pair": "crawl",
    "intake:identity": "crawl",
    "account_login": "the navigator's sign-in; signed-out crawl, with errors",
    "mfa_authenticate": "the navigator's sign-in; signed-out crawl, with errors",
    "account_logout": "crawl (the are-you-sure page)",
    "account_change_password": "crawl, with errors",
    "account_email": "crawl",
    "account_reauthenticate": "crawl; test_mfa_setup.py",
    "mfa_index": "crawl",
    "socialaccount_connections": "crawl",
    "socialaccount_login_cancelled": "signed-out crawl",
    "socialaccount_login_error": "signed-out crawl (answers 401)",
    "socialaccount_signup": "not a page: sign-up is closed; redirects (test_single_sign_on.py)",
    "openid_connect_login": "test_single_sign_on.py (a real OpenID provider)",
    "openid_connect_callback": "test_single_sign_on.py (a real OpenID provider)",
    "mfa_reauthenticate": "crawl",
    "mfa_cannot_deactivate": "crawl",
    "mfa_deactivate_totp": "crawl (mfa_cannot_deactivate shadows its path)",
    "mfa_activate_totp": "test_mfa_setup.py, with errors",
    "mfa_view_recovery_codes": "test_mfa_setup.py",
    "mfa_generate_recovery_codes": "test_mfa_setup.py",
    "account_signup": "signed-out crawl (sign-up is closed)",
    "account_inactive": "signed-out crawl",
    "account_reset_password": "signed-out crawl",
    "account_reset_password_done": "signed-out crawl",
    "account_reset_password_from_key": "signed-out crawl (a bad link)",
    "account_reset_password_from_key_done": "signed-out crawl",
    "account_email_verification_sent": "signed-out crawl",
    "account_confirm_email": "signed-out crawl (a bad link)",
    # Not pages:
    "account_confirm_login_code": "not a page: sign-in by emailed code is off; redirects",
    "account_set_password": "not a page: every account has a password; redirects",
    "intake:quarantine_csv": "not a page: a CSV download",
    "insight:board_report": "not a page: a PDF or xlsx download (test_board_report.py)",
    "insight:figures_csv": "not a page: a CSV download (test_suppression.py)",
    "voice:board": "crawl; test_voice.py",
    "voice:new": "crawl (with errors); test_voice.py",
    "voice:detail": "crawl (board's assign form with errors); test_voice.py",
    "voice:themes": "crawl; test_voice.py",
    "voice:feedback_link_new": "crawl; test_voice_journey.py",
    "voice:kiosk_start": "crawl; test_feedback.py",
    "voice:feedback_results": "crawl (manager exact; analyst and board suppressed)",
    "voice:kiosk": "signed-out crawl (kiosk mode off); test_feedback.py",
    "voice:thanks": "signed-out crawl; test_voice_journey.py",
    "voice:feedback": "signed-out crawl (with errors); test_voice_journey.py at phone width",
    "voice:speak_up": "crawl (with errors, and sent); test_feedback.py",
    "voice:panel": "crawl (board: with errors)",
    "voice:panel_meeting": "crawl (board: with errors)",
    "voice:recommendation": "crawl",
    "voice:you_said_we_did": "signed-out crawl; test_voice_journey.py",
    "measures:person": "crawl; test_measures_journey.py",
    "measures:completion_new": "crawl (with errors); test_measures_journey.py",
    "measures:outcomes": "crawl (manager exact; analyst and board suppressed)",
    "measures:outcomes_equality": "crawl (with an error); test_outcome_equality.py",
    "measures:equality": "crawl; test_measures_web.py",
    "measures:public_health": "crawl (with a loaded export); test_measures_web.py",
    "measures:evaluation_export": "crawl (with errors); test_measures_web.py",
    "measures:staff_survey": "crawl (with errors); test_measures_web.py",
    "measures:instruments": "crawl (administrator, with errors); test_measures_web.py",
    "measures:service_costs": "crawl (manager exact; analyst and board suppressed)",
    "mfa_download_recovery_codes": "not a page: a text download",
    "api:api-root": "not a page: JSON API",
    "api:openapi-json": "not a page: JSON API",
    "api:me": "not a page: JSON API",
    "api:list_people": "not a page: JSON API",
    "api:get_person": "not a page: JSON API",
    "api:get_timeline": "not a page: JSON API",
    "api:list_referrals": "not a page: JSON API",
    "api:get_referral": "not a page: JSON API",
    "api:send_referral": "not a page: JSON API",
    "api:decide_referral": "not a page: JSON API",
    "api:reply_to_referral": "not a page: JSON API",
    "api:push_events": "not a page: JSON API",
    "api:fhir_patient_everything": "not a page: FHIR JSON (the person page links to it)",
    "api:fhir_import_bundle": "not a page: FHIR JSON",
    "partner_api:list": "crawl; test_partner_api_pages.py",
    "partner_api:new": "crawl; test_partner_api_pages.py",
    "partner_api:detail": "crawl; test_partner_api_pages.py",
}
