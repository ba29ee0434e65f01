"""Cross-organisational working (outcome 7): organisations per person's team, referral
acceptance and time to accept, actions completed on time; per organisation, by month.

Aggregates only: no person is named. Analysts and board members see them with small-number
suppression (``core.disclosure``); managers see their own partnership's exact counts."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count

from onestory.access.models import Organisation
from onestory.core.disclosure import Rule
from onestory.meetings.models import Action
from onestory.people.models import Relationship
from onestory.referrals.models import Referral


@dataclass
class OrgMonth:
    received: int = 0
    accepted: int = 0
    declined: int = 0
    days_to_accept: list[int] = field(default_factory=list)
    actions_due: int = 0
    actions_on_time: int = 0


@dataclass(frozen=True)
class Row:
    organisation: str
    month: str
    received: int | None
    acceptance_rate: float | None
    median_days_to_accept: float | None
    actions_due: int | None
    on_time_rate: float | None


def _month(day: date) -> str:
    return f"{day:%Y-%m}"


def working_together(*, months: list[date], rule: Rule | None) -> tuple[list[Row], float | None]:
    """Rows per organisation and month, and the mean number of organisations in each
    person's team now. ``rule`` suppresses small numbers (``None``: exact)."""
    first = months[0]
    data: dict[tuple[int, str], OrgMonth] = defaultdict(OrgMonth)
    for r in Referral.objects.filter(created_at__date__gte=first).values(
        "to_organisation_id", "created_at", "status", "decided_at"
    ):
        cell = data[(r["to_organisation_id"], _month(r["created_at"].date()))]
        cell.received += 1
        if r["status"] in {"accepted", "closed"} and r["decided_at"]:
            cell.accepted += 1
            cell.days_to_accept.append((r["decided_at"] - r["created_at"]).days)
        elif r["status"] == "declined":
            cell.declined += 1
    for a in Action.objects.filter(due_on__gte=first).values(
        "owner_organisation_id", "due_on", "status", "completed_on"
    ):
        if a["due_on"] > date.today():  # noqa: DTZ011 - not yet due
            continue
        cell = data[(a["owner_organisation_id"], _month(a["due_on"]))]
        cell.actions_due += 1
        if a["status"] == "done" and a["completed_on"] and a["completed_on"] <= a["due_on"]:
            cell.actions_on_time += 1
    names = dict(Organisation.objects.values_list("pk", "name"))
    rows = []
    for (org_id, month), cell in sorted(data.items(), key=lambda kv: (names[kv[0][0]], kv[0][1])):
        decided = cell.accepted + cell.declined
        median = statistics.median(cell.days_to_accept) if cell.days_to_accept else None
        if rule is None:
            rows.append(
                Row(
                    names[org_id],
                    month,
                    cell.received,
                    cell.accepted / decided if decided else None,
                    median,
                    cell.actions_due,
                    cell.actions_on_time / cell.actions_due if cell.actions_due else None,
                )
            )
        else:
            rows.append(
                Row(
                    names[org_id],
                    month,
                    rule.count(cell.received),
                    rule.rate(cell.accepted, decided),
                    median if rule.count(len(cell.days_to_accept)) is not None else None,
                    rule.count(cell.actions_due),
                    rule.rate(cell.actions_on_time, cell.actions_due),
                )
            )
    today = date.today()  # noqa: DTZ011
    sizes = list(
        Relationship.objects.filter(started_on__lte=today, ended_on__isnull=True)
        .values("person_id")
        .annotate(n=Count("organisation_id", distinct=True))
        .values_list("n", flat=True)
    )
    mean = statistics.mean(sizes) if sizes and (rule is None or rule.count(len(sizes))) else None
    return rows, mean
