"""Per-person outcome records for an external evaluator: pseudonymised (a keyed hash of the
person, the same in every export made with this installation's key, so records can be
followed over time but not traced to a name) and only the fields the analyst chooses.

One service for the web page and ``onestory export evaluator``: both pass their actor, and
the export writes one audit event naming every person in it."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.crypto import salted_hmac

from onestory.audit import services as audit
from onestory.audit.services import Actor
from onestory.casework.models import Goal
from onestory.core.exports import safe_cell
from onestory.measures import costs, outcomes
from onestory.measures.models import Completion, Equality
from onestory.people.models import Person


class UnknownField(ValueError):
    """A field asked for that the export does not have."""


def pseudonym(person_id: int) -> str:
    return salted_hmac("onestory.evaluation", str(person_id), algorithm="sha256").hexdigest()[:16]


@dataclass
class _Context:
    today: date
    births: dict[int, date | None]
    equality: dict[int, Equality]
    ndta: dict[int, list[float]]
    ons4: dict[int, list[dict[str, float]]]
    experience: dict[int, list[float]]
    goals: dict[int, tuple[int, int]]
    starts: dict[int, date]
    costs: dict[int, dict[str, Decimal]]


def _series(code: str, as_of: date) -> dict[int, list[Completion]]:
    out: dict[int, list[Completion]] = {}
    rows = Completion.objects.filter(instrument__code=code, completed_on__lte=as_of)
    for c in rows.order_by("completed_on", "pk"):
        out.setdefault(c.person_id, []).append(c)
    return out


def _first_last(values: list[float] | None, last: bool) -> str:
    if not values:
        return ""
    return f"{values[-1 if last else 0]:g}"


def _ons4(key: str, last: bool) -> Callable[[int, _Context], str]:
    def value(p: int, c: _Context) -> str:
        answers = [a[key] for a in c.ons4.get(p, []) if a.get(key) is not None]
        return _first_last(answers, last)

    return value


def _equality(field_name: str) -> Callable[[int, _Context], str]:
    return lambda p, c: getattr(c.equality.get(p), field_name, "") or ""


def _cost(label: str) -> Callable[[int, _Context], str]:
    def value(p: int, c: _Context) -> str:
        amount = c.costs.get(p, {}).get(label)
        return "" if amount is None else str(amount.quantize(Decimal("1")))

    return value


FIELDS: dict[str, tuple[str, Callable[[int, _Context], str]]] = {
    "age_band": ("Age band", lambda p, c: outcomes._age_band(c.births.get(p), c.today)),
    "sex": ("Sex", _equality("sex")),
    "gender_same_as_birth": ("Gender the same as sex at birth", _equality("gender_same_as_birth")),
    "ethnicity": ("Ethnic group", _equality("ethnicity")),
    "disabled": ("Disabled", _equality("disabled")),
    "sexual_orientation": ("Sexual orientation", _equality("sexual_orientation")),
    "religion": ("Religion or belief", _equality("religion")),
    "support_start_month": (
        "Month support began",
        lambda p, c: f"{c.starts[p]:%Y-%m}" if p in c.starts else "",
    ),
    "ndta_first": ("First NDTA total", lambda p, c: _first_last(c.ndta.get(p), last=False)),
    "ndta_latest": ("Latest NDTA total", lambda p, c: _first_last(c.ndta.get(p), last=True)),
    "ndta_count": ("NDTAs recorded", lambda p, c: str(len(c.ndta.get(p, [])))),
    "life_satisfaction_first": ("First life satisfaction (ONS4)",
                                _ons4("life_satisfaction", False)),
    "life_satisfaction_latest": ("Latest life satisfaction (ONS4)",
                                 _ons4("life_satisfaction", True)),
    "worthwhile_first": ("First feeling things are worthwhile (ONS4)", _ons4("worthwhile", False)),
    "worthwhile_latest": ("Latest feeling things are worthwhile (ONS4)", _ons4("worthwhile", True)),
    "happy_first": ("First happiness yesterday (ONS4)", _ons4("happy_yesterday", False)),
    "happy_latest": ("Latest happiness yesterday (ONS4)", _ons4("happy_yesterday", True)),
    "anxious_first": ("First anxiety yesterday (ONS4)", _ons4("anxious_yesterday", False)),
    "anxious_latest": ("Latest anxiety yesterday (ONS4)", _ons4("anxious_yesterday", True)),
    "experience_first": (
        "First experience of support (3 to 15)",
        lambda p, c: _first_last(c.experience.get(p), last=False),
    ),
    "experience_latest": (
        "Latest experience of support (3 to 15)",
        lambda p, c: _first_last(c.experience.get(p), last=True),
    ),
    "cost_before": ("Cost of services in the 12 months before support (£)",
                    _cost("12 months before")),
    "cost_year_1": ("Cost of services in the first year of support (£)",
                    _cost("Year 1 of support")),
    "goals_set": ("Goals set", lambda p, c: str(c.goals.get(p, (0, 0))[0])),
    "goals_achieved": ("Goals achieved", lambda p, c: str(c.goals.get(p, (0, 0))[1])),
}  # fmt: skip


def check_fields(fields: list[str]) -> list[str]:
    """The fields asked for, or :class:`UnknownField` naming the first unknown one."""
    if not fields:
        raise UnknownField(f"choose at least one field: {', '.join(FIELDS)}")
    for name in fields:
        if name not in FIELDS:
            raise UnknownField(f"unknown field '{name}': choose from {', '.join(FIELDS)}")
    return fields


def export(fields: list[str], today: date) -> tuple[str, list[int]]:
    """The CSV text and the people in it (everyone whose one-to-one support had begun by
    ``today``; measures, goals and costs as they stood then)."""
    check_fields(fields)
    starts = {p: d for p, d in costs.support_starts().items() if d <= today}
    people = sorted(starts)
    goals: dict[int, tuple[int, int]] = {}
    for person_id, status, changed, created in Goal.objects.filter(
        person_id__in=people, created_at__date__lte=today
    ).values_list("person_id", "status", "status_changed_on", "created_at"):
        achieved = status == Goal.Status.ACHIEVED and (changed or created.date()) <= today
        n, done = goals.get(person_id, (0, 0))
        goals[person_id] = (n + 1, done + achieved)
    wants_costs = any(f.startswith("cost_") for f in fields)
    context = _Context(
        today=today,
        births=dict(Person.objects.filter(pk__in=people).values_list("pk", "date_of_birth")),
        equality={e.person_id: e for e in Equality.objects.filter(person_id__in=people)},
        ndta={
            p: [float(c.total) for c in cs if c.total is not None]
            for p, cs in _series("ndta", today).items()
        },
        ons4={p: [dict(c.subscores) for c in cs] for p, cs in _series("ons4", today).items()},
        experience={
            p: [float(c.total) for c in cs if c.total is not None]
            for p, cs in _series("experience", today).items()
        },
        goals=goals,
        starts=starts,
        costs={
            p: {period.label: cost for period, cost, _ in periods}
            for p, periods in (costs.period_costs(today, starts) if wants_costs else {}).items()
        },
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["pseudonym", *fields])
    for person_id in people:
        writer.writerow(
            [
                pseudonym(person_id),
                *(safe_cell(FIELDS[f][1](person_id, context)) for f in fields),
            ]
        )
    return out.getvalue(), people


def evaluation_export(*, actor: Actor, fields: list[str], as_of: date) -> tuple[str, list[int]]:
    """Export the chosen fields as of a day, and audit it against every person in it."""
    body, people = export(check_fields(fields), as_of)
    audit.record(
        actor=actor,
        action="export.evaluation",
        persons=people,
        detail={"fields": fields, "rows": len(people), "as_of": as_of.isoformat()},
    )
    return body, people
