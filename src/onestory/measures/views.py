"""Measures for a person, and the outcomes dashboard. Thin: scope, one service, render."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from onestory.access import policy, scope
from onestory.access.context import AccessContext, request_access
from onestory.access.decorators import roles
from onestory.access.roles import Role
from onestory.access.scope import PersonView
from onestory.audit.decorators import unattributed
from onestory.casework.views import person_page
from onestory.core import rls
from onestory.core.disclosure import Rule, shown
from onestory.insight import dashboard as insight
from onestory.insight.selectors import cohort_rows
from onestory.measures import costs, evaluation, forms, outcomes, services, shipped
from onestory.measures.models import Completion, Instrument
from onestory.meetings.measures import working_together
from onestory.voice.selectors import quarter_pack
from onestory_engine import measures as engine

RECORDING = tuple(policy.MEASURING_ROLES)
VIEWING = (Role.NAVIGATOR, Role.PRACTITIONER, Role.PEER_MENTOR, Role.MANAGER)
STAFF = (*VIEWING, Role.DATA_MANAGER)


def line_chart(points: list[tuple[str, float]], *, top: float, title: str) -> dict[str, Any]:
    """Geometry for a server-rendered SVG line chart of one series (0 at the bottom)."""
    width, height, left, bottom, pad = 640, 220, 40, 30, 20
    step = (width - left - pad) / max(len(points) - 1, 1)
    dots = []
    for i, (label, value) in enumerate(points):
        x = left + i * step if len(points) > 1 else left + (width - left) / 2
        y = height - bottom - (height - bottom - pad) * value / (top or 1)
        dots.append({"x": x, "y": y, "label": label, "value": value})
    return {
        "title": title,
        "width": width,
        "height": height,
        "base": height - bottom,
        "left": left,
        "dots": dots,
        "path": " ".join(f"{d['x']:.1f},{d['y']:.1f}" for d in dots),
        "top": top,
    }


@roles(*VIEWING)
@person_page("measures.view")
def person_measures(request: HttpRequest, access: AccessContext, view: PersonView) -> HttpResponse:
    rows = scope.person_completions(view)
    context: dict[str, Any] = {
        "view": view,
        "person": view.person,
        "section": "measures",
        "shared": rows is not None,
        "can_record": policy.may_record_measures(role=access.role, categories=view.categories),
        "added": sorted(
            {
                i.code: i.name
                for i in Instrument.objects.filter(active=True).exclude(
                    code__in=["ndta", "ons4", "experience", "staff_confidence"]
                )
            }.items()
        ),
    }
    if rows is not None:
        ndta = [c for c in rows if c.instrument.code == "ndta" and c.total is not None]
        context["ndta"] = ndta
        if ndta:
            context["ndta_change"] = (
                engine.change(ndta[0].total, ndta[-1].total, lower_is_better=True)
                if len(ndta) > 1
                else None
            )
            context["ndta_chart"] = line_chart(
                [(f"{c.completed_on:%b %Y}", float(c.total or 0)) for c in ndta],
                top=48,
                title=f"NDTA total for {view.person.display_name} (0 to 48, lower is better)",
            )
        context["others"] = [c for c in rows if c.instrument.code != "ndta"]
    start = costs.support_starts().get(view.id)
    if start is not None:
        # Only events in the categories this user may see are costed.
        price = costs.prices()
        context["costs"] = costs.person_costs(
            view.id, start, timezone.localdate(), {c.value for c in view.categories}, price
        )
        context["cost_labels"] = price.labels
        context["cost_year"] = price.reporting_year
        context["support_start"] = start
    return render(request, "measures/person.html", context)


@roles(*RECORDING)
@person_page("measures.record")
def completion_new(
    request: HttpRequest, access: AccessContext, view: PersonView, code: str
) -> HttpResponse:
    if not policy.may_record_measures(role=access.role, categories=view.categories):
        return render(request, "errors/403.html", status=403)
    try:
        instrument = services.current_instrument(code)
    except services.MeasureError as exc:
        raise Http404(str(exc)) from exc
    parsed = instrument.parsed
    form = forms.CompletionForm(
        request.POST if request.method == "POST" else None, instrument=parsed
    )
    if request.method == "POST" and form.is_valid():
        try:
            completion = services.completion_record(
                actor=access,
                view=view,
                instrument=instrument,
                answers=form.answers(),
                completed_on=form.cleaned_data["completed_on"],
            )
        except services.MeasureError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _saved(completion))
            return redirect("measures:person", person_id=view.id)
    return render(
        request,
        "measures/completion_new.html",
        {"form": form, "instrument": parsed, "person": view.person, "view": view},
    )


def _saved(completion: Completion) -> str:
    if completion.total is None:
        return f"{completion.instrument.name} saved."
    total = f"{completion.total:g}"
    return f"{completion.instrument.name} saved: total {total}."


@roles(*RECORDING, Role.PEER_MENTOR)
@person_page("equality.view")
def person_equality(request: HttpRequest, access: AccessContext, view: PersonView) -> HttpResponse:
    """What the person chose to say about themselves for equality monitoring."""
    visible, record = scope.person_equality(view)
    editable = policy.may_record_equality(role=access.role, categories=view.categories)
    form = forms.EqualityForm(
        request.POST if request.method == "POST" and editable else None,
        initial={
            "based_on_version": record.version if record else 0,
            **{f: getattr(record, f) for f in services.EQUALITY_FIELDS if record},
        },
    )
    if request.method == "POST":
        if not editable:
            return render(request, "errors/403.html", status=403)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.equality_save(
                    actor=access,
                    view=view,
                    answers={f: data[f] for f in services.EQUALITY_FIELDS},
                    based_on_version=data["based_on_version"],
                )
            except services.MeasureError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Equality monitoring saved.")
                return redirect("measures:equality", person_id=view.id)
    return render(
        request,
        "measures/equality.html",
        {
            "view": view,
            "person": view.person,
            "section": "measures",
            "visible": visible,
            "record": record,
            "editable": editable,
            "form": form,
        },
    )


def _indicator_chart(
    periods: list[str], area: list[Any], england: list[Any], title: str
) -> dict[str, Any]:
    """Two lines over time (the area with its 95% confidence intervals, and England)."""
    width, height, left, bottom, pad = 640, 240, 50, 30, 20
    values = [
        v
        for r in area + england
        if r is not None
        for v in (r.value, r.lower_ci, r.upper_ci)
        if v is not None
    ]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high == low:
        high = low + 1
    step = (width - left - pad) / max(len(periods) - 1, 1)

    def y(v: float) -> float:
        return height - bottom - (height - bottom - pad) * (v - low) / (high - low)

    def line(rows: list[Any]) -> list[dict[str, float | None]]:
        return [
            {
                "x": left + i * step,
                "y": y(r.value),
                "value": r.value,
                "lo": y(r.lower_ci) if r.lower_ci is not None else None,
                "hi": y(r.upper_ci) if r.upper_ci is not None else None,
            }
            for i, r in enumerate(rows)
            if r is not None and r.value is not None
        ]

    a, e = line(area), line(england)
    return {
        "title": title,
        "width": width,
        "height": height,
        "base": height - bottom,
        "left": left,
        "area": a,
        "england": e,
        "area_path": " ".join(f"{p['x']:.1f},{p['y']:.1f}" for p in a),
        "england_path": " ".join(f"{p['x']:.1f},{p['y']:.1f}" for p in e),
        "ticks": [{"x": left + i * step, "label": p} for i, p in enumerate(periods)],
        "low": round(low, 1),
        "high": round(high, 1),
    }


@roles(Role.MANAGER, Role.ANALYST, Role.BOARD_MEMBER)
@rls.basis("aggregate")  # figures over everyone (ADR 0022)
def public_health(request: HttpRequest) -> HttpResponse:
    """Public Health Outcomes Framework indicators: the area against England over time."""
    access = request_access(request)
    can_load = access.role in {Role.ANALYST, Role.MANAGER}
    form = forms.IndicatorUploadForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST":
        if not can_load:
            return render(request, "errors/403.html", status=403)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                stored, skipped = services.indicators_import(
                    actor=access, data=upload.read(), name=upload.name
                )
            except services.MeasureError as exc:
                form.add_error("file", str(exc))
            else:
                note = f" {len(skipped)} rows skipped: {'; '.join(skipped[:5])}" if skipped else ""
                messages.success(request, f"{stored} indicator values loaded.{note}")
                return redirect("measures:public_health")
    indicators = []
    for (
        indicator_id,
        name,
        _area_code,
        area_name,
        periods,
        area,
        england,
    ) in outcomes.indicator_series():
        indicators.append(
            {
                "id": indicator_id,
                "name": name,
                "area_name": area_name,
                "rows": list(zip(periods, area, england, strict=True)),
                "chart": _indicator_chart(
                    periods, area, england, f"{name}: {area_name} and England"
                ),
            }
        )
    return render(
        request,
        "measures/public_health.html",
        {"indicators": indicators, "form": form, "can_load": can_load},
    )


@roles(*STAFF)
@unattributed
def staff_survey(request: HttpRequest) -> HttpResponse:
    """Staff confidence: one question, answered with the organisation and day only."""
    access = request_access(request)
    instrument = services.current_instrument("staff_confidence")
    form = forms.CompletionForm(
        request.POST if request.method == "POST" else None, instrument=instrument.parsed
    )
    form.fields.pop("completed_on")
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_survey_answer(actor=access, answers=form.answers())
        except services.MeasureError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Thank you. Your answer is kept without your name.")
            return redirect("home")
    return render(request, "measures/staff_survey.html", {"form": form, "instrument": instrument})


@roles(Role.ADMINISTRATOR)
def instruments(request: HttpRequest) -> HttpResponse:
    """The questionnaires in use, and adding one (or a new version) from its definition."""
    access = request_access(request)
    shipped.ensure_instruments()
    form = forms.InstrumentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            added = services.instrument_add(actor=access, text=form.cleaned_data["definition"])
        except services.MeasureError as exc:
            form.add_error("definition", str(exc))
        else:
            messages.success(request, f"{added} added.")
            return redirect("measures:instruments")
    rows = [(i, i.parsed) for i in Instrument.objects.all()]
    return render(request, "measures/instruments.html", {"rows": rows, "form": form})


@roles(Role.ANALYST, Role.MANAGER)
@rls.basis("aggregate")  # figures over everyone (ADR 0022)
def evaluation_export(request: HttpRequest) -> HttpResponse:
    """Per-person outcome records, pseudonymised, with the fields the analyst chooses."""
    access = request_access(request)
    form = forms.EvaluationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        body, _people = evaluation.evaluation_export(
            actor=access.actor, fields=form.cleaned_data["columns"], as_of=timezone.localdate()
        )
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="onestory-outcomes.csv"'
        return response
    return render(request, "measures/evaluation.html", {"form": form})


@roles(Role.MANAGER, Role.ANALYST, Role.BOARD_MEMBER)
@rls.basis("aggregate")  # figures over everyone (ADR 0022)
def service_costs(request: HttpRequest) -> HttpResponse:
    """The cost of the public services people used, before and after support began."""
    access = request_access(request)
    rule = Rule.from_settings() if access.role in {Role.ANALYST, Role.BOARD_MEMBER} else None
    price = costs.prices()
    rows = costs.cohort_costs(timezone.localdate(), rule)
    return render(
        request,
        "measures/costs.html",
        {
            "rows": rows,
            "price": price,
            "units": sorted(price.per_use.items(), key=lambda kv: price.labels[kv[0]]),
            "suppressed": rule is not None,
            "chart": insight.bar_chart(
                [
                    (
                        r.label.replace(" of support", ""),
                        None if r.mean_cost is None else int(r.mean_cost),
                    )
                    for r in rows
                ],
                title="Average cost of services used per person, before and after support began",
            ),
        },
    )


@roles(Role.MANAGER, Role.ANALYST, Role.BOARD_MEMBER)
@rls.basis("aggregate")  # figures over everyone (ADR 0022)
def outcomes_dashboard(request: HttpRequest) -> HttpResponse:
    """The eight outcome statements with the measures the work collects."""
    access = request_access(request)
    rule = Rule.from_settings() if access.role in {Role.ANALYST, Role.BOARD_MEMBER} else None
    today = timezone.localdate()
    cohort_ids = [int(r["person_id"]) for r in cohort_rows() if r["smd"] == 1]
    supported = costs.supported_now()
    wellbeing = [
        (label, key, outcomes.change_of("ons4", key=key, lower_is_better=key == "anxious_yesterday",
                                        rule=rule))
        for label, key in outcomes.WELLBEING
    ]  # fmt: skip
    staff = outcomes.staff_confidence(rule)
    quarters = outcomes.ndta_by_quarter(rule)
    breakdowns, women_cohort, women_support = outcomes.equality_breakdowns(
        cohort_ids, supported, today, rule
    )
    led = set(cohort_ids) & set(supported)
    goal_people = outcomes.person_outcomes("goals", today)
    achieved_one = sum(1 for o in goal_people.values() if o.better)
    in_support = outcomes.supported_by_quarter(today, rule)
    barriers = outcomes.barriers_by_quarter(today, rule)
    periods_of = costs.period_costs(today)
    cost_rows = costs.cohort_costs(today, rule, periods_of)
    emergency = costs.emergency_use(today, rule, periods_of)
    return render(
        request,
        "measures/outcomes.html",
        {
            "as_of": today,
            "cohort": shown(len(cohort_ids), rule),
            "unallocated": shown(len(cohort_ids) - len(led), rule),
            "navigator_share": outcomes.share(len(led), len(cohort_ids), rule),
            "breakdowns": breakdowns,
            "ndta_by_sex": outcomes.ndta_change_by("sex", rule, today),
            "ndta_by_ethnicity": outcomes.ndta_change_by("ethnicity", rule, today),
            "women_cohort": women_cohort,
            "women_support": women_support,
            "suppressed": rule is not None,
            "ndta": outcomes.change_of("ndta", key=None, lower_is_better=True, rule=rule),
            "wellbeing": wellbeing,
            "experience": outcomes.change_of(
                "experience", key=None, lower_is_better=False, rule=rule
            ),
            "experience_items": outcomes.experience_items(rule),
            "goals": outcomes.goals(rule),
            "goal_people": shown(len(goal_people), rule),
            "goal_achieved_one": outcomes.share(achieved_one, len(goal_people), rule),
            "staff": staff,
            "staff_chart": insight.bar_chart(
                [
                    (
                        q.quarter[2:],
                        None
                        if q.people is None or q.agree is None or not q.people
                        else round(100 * q.agree / q.people),
                    )
                    for q in staff
                ],
                title="Staff who feel equipped and supported (% agreeing), by quarter",
            ),
            "ndta_quarters": quarters,
            "ndta_chart": insight.bar_chart(
                [(q[2:], None if m is None else round(m, 1)) for q, _n, m in quarters],
                title="Average NDTA total of the assessments in each quarter (lower is better)",
            ),
            "in_support": in_support,
            "in_support_chart": insight.bar_chart(
                [(q[2:], n) for q, n in in_support],
                title="People with a named lead worker at the end of each quarter",
            ),
            "barriers": barriers,
            "barriers_chart": insight.grouped_chart(
                [b.quarter[2:] for b in barriers],
                [
                    ("Raised", [b.raised for b in barriers]),
                    ("Resolved", [b.resolved for b in barriers]),
                ],
                title="Barriers to care raised and resolved each quarter",
            ),
            "working": outcomes.working_by_quarter(today, rule),
            "mean_team": working_together(months=[date(today.year - 1, today.month, 1)],
                                          rule=rule)[1],
            "costs": cost_rows,
            "cost_chart": insight.bar_chart(
                [
                    (r.label.replace(" of support", ""),
                     None if r.mean_cost is None else int(r.mean_cost))
                    for r in cost_rows
                ],
                title="Average cost of services used per person, before and after support began",
            ),
            "emergency_costs": list(zip(emergency, cost_rows, strict=True)),
            "emergency_units": costs.EMERGENCY,
            "indicators": outcomes.indicators_latest(),
            "shared": outcomes.shared_data(rule),
            "referral_days": outcomes.referral_to_support_days(),
            "identified": outcomes.identification_to_support(rule=rule),
            "voice": quarter_pack(today, rule),
        },
    )  # fmt: skip


@roles(Role.MANAGER, Role.ANALYST, Role.BOARD_MEMBER)
@rls.basis("aggregate")  # figures over everyone (ADR 0022)
def outcomes_equality(request: HttpRequest) -> HttpResponse:
    """Every outcome by one protected characteristic at a time, as people chose to answer."""
    access = request_access(request)
    rule = Rule.from_settings() if access.role in {Role.ANALYST, Role.BOARD_MEMBER} else None
    form = forms.CharacteristicForm(request.GET or {"characteristic": "sex"})
    chosen = form.cleaned_data["characteristic"] if form.is_valid() else "sex"
    tables = outcomes.outcome_equality(timezone.localdate(), rule, characteristics=[chosen])
    return render(
        request,
        "measures/outcomes_equality.html",
        {
            "form": form,
            "tables": tables,
            "characteristic": dict(outcomes.CHARACTERISTICS)[chosen],
            "suppressed": rule is not None,
        },
    )
