"""The SMD cohort on the person index (contract: shared/spec/feeds.md, "SMD cohort").

A person is in the cohort when their linked events show at least ``min_domains`` of the
five domains in the window ``(as_of - months, as_of]`` and they are ``min_age`` or over on
the as-of date (or their date of birth is unknown). ED attendances are counted in the same
window. The kind/event type/role -> domain mapping is configuration (``feeds``).

Tables in, a table out; computed in DuckDB. No Django here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import duckdb
import pyarrow as pa

from onestory_engine import feeds

EVENT_COLUMNS: Final = ("person_id", "kind", "event_type", "role", "event_date", "reason_category")
PERSON_COLUMNS: Final = ("person_id", "date_of_birth")


@dataclass(frozen=True)
class CohortRule:
    as_of: date
    months: int = 12
    min_domains: int = 3
    min_age: int = 18

    @property
    def window_start(self) -> date:
        """The day before the window opens: events count when ``start < date <= as_of``."""
        return add_months(self.as_of, -self.months)

    @property
    def born_on_or_before(self) -> date:
        """People born on or before this day are ``min_age`` or over on the as-of date."""
        try:
            return self.as_of.replace(year=self.as_of.year - self.min_age)
        except ValueError:  # 29 February in a year that has none
            return self.as_of.replace(year=self.as_of.year - self.min_age, day=28)


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months, the day clipped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _domain_table(
    events: pa.Table,
    mapping: Mapping[feeds.DomainKey, str | None] | None,
    ed_reason_domains: Mapping[str, str] | None,
) -> pa.Table:
    """The domain of each distinct (kind, event_type, role, reason) in the events."""
    con = duckdb.connect()
    con.register("events", events)
    keys = con.sql("SELECT DISTINCT kind, event_type, role, reason_category FROM events").fetchall()
    con.close()
    rows: dict[str, list[Any]] = {
        "kind": [], "event_type": [], "role": [], "reason_category": [], "domain": []
    }  # fmt: skip
    for kind, event_type, role, reason in keys:
        rows["kind"].append(kind)
        rows["event_type"].append(event_type)
        rows["role"].append(role)
        rows["reason_category"].append(reason)
        rows["domain"].append(
            feeds.event_domain(
                kind or "",
                event_type or "",
                role or None,
                reason_category=reason,
                mapping=mapping,
                ed_reason_domains=ed_reason_domains,
            )
        )
    return pa.table({k: pa.array(v, pa.string()) for k, v in rows.items()})


def cohort(
    events: pa.Table,
    persons: pa.Table,
    rule: CohortRule,
    *,
    mapping: Mapping[feeds.DomainKey, str | None] | None = None,
    ed_reason_domains: Mapping[str, str] | None = None,
) -> pa.Table:
    """One row per person in ``persons``: ``person_id, domains`` (sorted tokens joined by
    ``;``), ``n_domains, smd`` (1/0) and ``ed_attendances`` in the window."""
    domains = _domain_table(events, mapping, ed_reason_domains)
    con = duckdb.connect()
    con.register("events", events)
    con.register("persons", persons)
    con.register("domain_map", domains)
    result = con.sql(
        """
        WITH windowed AS (
            SELECT e.person_id, e.kind, e.event_type, d.domain
            FROM events e
            LEFT JOIN domain_map d
              ON d.kind IS NOT DISTINCT FROM e.kind
             AND d.event_type IS NOT DISTINCT FROM e.event_type
             AND d.role IS NOT DISTINCT FROM e.role
             AND d.reason_category IS NOT DISTINCT FROM e.reason_category
            WHERE e.event_date > $start AND e.event_date <= $as_of
        ), per_person AS (
            SELECT person_id,
                   list_sort(list_distinct(list(domain) FILTER (WHERE domain IS NOT NULL)))
                       AS domains,
                   count(*) FILTER (WHERE kind = 'ed' AND event_type = 'attendance') AS ed
            FROM windowed
            GROUP BY person_id
        )
        SELECT p.person_id,
               coalesce(array_to_string(w.domains, ';'), '') AS domains,
               coalesce(len(w.domains), 0)::INTEGER AS n_domains,
               CASE WHEN coalesce(len(w.domains), 0) >= $min_domains
                     AND (p.date_of_birth IS NULL OR p.date_of_birth <= $born_by)
                    THEN 1 ELSE 0 END::INTEGER AS smd,
               coalesce(w.ed, 0)::INTEGER AS ed_attendances
        FROM persons p
        LEFT JOIN per_person w ON w.person_id = p.person_id
        ORDER BY p.person_id
        """,
        params={
            "start": rule.window_start,
            "as_of": rule.as_of,
            "min_domains": rule.min_domains,
            "born_by": rule.born_on_or_before,
        },
    ).to_arrow_table()
    con.close()
    return result


# --- The by-name list month by month (DOMAIN.md, Built for Zero)

ACTIVE: Final = "active"
INFLOW_NEW: Final = "inflow_new"  # newly identified
INFLOW_RETURNED: Final = "inflow_returned"  # back after leaving (housed, inactive, criteria)
OUTFLOW_HOUSED: Final = "outflow_housed"  # housed, or support goal reached
OUTFLOW_INACTIVE: Final = "outflow_inactive"  # moved away, institution > 90 days, died
OUTFLOW_CRITERIA: Final = "outflow_criteria"  # no longer meets the cohort rule

# Closure reasons (casework) and the outflow they make.
CLOSURE_OUTFLOW: Final[dict[str, str]] = {
    "housed": OUTFLOW_HOUSED,
    "goal_reached": OUTFLOW_HOUSED,
    "moved_away": OUTFLOW_INACTIVE,
    "institution": OUTFLOW_INACTIVE,
    "died": OUTFLOW_INACTIVE,
}


def month_ends(last: date, count: int) -> list[date]:
    """The last day of each of ``count`` months ending with ``last``'s month (``last``
    itself for that month, which is still in progress)."""
    ends = []
    first_of_next = add_months(last.replace(day=1), 1)
    for back in range(count, 0, -1):
        start = add_months(first_of_next, -back + 1)
        ends.append(date.fromordinal(start.toordinal() - 1))
    # The month in progress is counted as it stands today.
    ends[-1] = min(ends[-1], last)
    return ends


def by_name_months(
    events: pa.Table,
    persons: pa.Table,
    closures: Mapping[int, list[tuple[date, str]]],
    *,
    months: list[date],
    rule: CohortRule,
    mapping: Mapping[feeds.DomainKey, str | None] | None = None,
    spark: Any = None,
) -> list[dict[str, Any]]:
    """Each person's status on the by-name list at each month end in ``months``:
    ``{"month", "person_id", "status"}`` rows for people who are on the list, arrive or
    leave that month. ``closures`` maps a person to their support closures (date, reason).
    With ``spark`` (a session) each month's cohort is computed on Spark.
    """
    rows: list[dict[str, Any]] = []
    ever: set[int] = set()
    previous: set[int] = set()
    # Housed or inactive people leave until something new happens after their closure.
    gone: dict[int, date] = {}
    dates: dict[int, list[date]] = {}
    for person_id, day in zip(
        events.column("person_id").to_pylist(), events.column("event_date").to_pylist(), strict=True
    ):
        dates.setdefault(int(person_id), []).append(day)
    for index, month_end in enumerate(months):
        month_rule = CohortRule(month_end, rule.months, rule.min_domains, rule.min_age)
        if spark is None:
            table = cohort(events, persons, month_rule, mapping=mapping)
        else:
            table = cohort_spark(events, persons, month_rule, spark=spark, mapping=mapping)
        meets = {
            int(p)
            for p, s in zip(
                table.column("person_id").to_pylist(), table.column("smd").to_pylist(), strict=True
            )
            if s == 1
        }
        month_start = add_months(month_end, -1)
        closed_now: dict[int, str] = {}
        for person_id, items in closures.items():
            for closed_on, reason in items:
                if month_start < closed_on <= month_end and reason in CLOSURE_OUTFLOW:
                    closed_now[person_id] = CLOSURE_OUTFLOW[reason]
        current: set[int] = set()
        for person_id in sorted(meets | previous):
            if person_id in previous:
                if person_id in closed_now:
                    status = closed_now[person_id]
                    gone[person_id] = month_end
                elif person_id not in meets:
                    status = OUTFLOW_CRITERIA
                else:
                    status = ACTIVE
                    current.add(person_id)
            else:
                if person_id in closed_now:
                    continue  # closed before they were ever counted this month
                left = gone.get(person_id)
                if left is not None and not any(
                    left < d <= month_end for d in dates.get(person_id, [])
                ):
                    continue  # still housed or inactive: nothing new has happened
                status = INFLOW_RETURNED if person_id in ever else INFLOW_NEW
                if index == 0:
                    status = ACTIVE  # the list's first month: everyone is simply on it
                current.add(person_id)
                gone.pop(person_id, None)
            rows.append({"month": month_end, "person_id": person_id, "status": status})
        ever |= current
        previous = current
    return rows


def functional_zero(active: int, monthly_outflows: list[int]) -> bool:
    """Fewer people active than routinely leave in a month (the median monthly outflow over
    the last six months)."""
    recent = monthly_outflows[-6:]
    if not recent:
        return False
    ordered = sorted(recent)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return active < median


# --- High intensity use of emergency departments (DOMAIN.md): both definitions, settings.


@dataclass(frozen=True)
class HighIntensityRule:
    nhs_month_over: int = 5  # NHS England: more than 5 attendances in a calendar month
    nhs_year_over: int = 20  # ... or more than 20 in the rolling 12 months
    brc_year_at_least: int = 5  # British Red Cross: 5 or more in the rolling 12 months


def high_intensity(
    events: pa.Table, persons: pa.Table, rule: CohortRule, hiu: HighIntensityRule | None = None
) -> pa.Table:
    """Per adult person (or unknown age): ED attendances in the window, the most in one
    calendar month, and whether they meet the NHS England and British Red Cross
    definitions of high intensity use."""
    hiu = hiu or HighIntensityRule()
    con = duckdb.connect()
    con.register("events", events)
    con.register("persons", persons)
    table = con.sql(
        """
        WITH ed AS (
            SELECT person_id, date_trunc('month', event_date) AS month
            FROM events
            WHERE kind = 'ed' AND event_type = 'attendance'
              AND event_date > $start AND event_date <= $as_of
        ), monthly AS (
            SELECT person_id, month, count(*) AS n FROM ed GROUP BY person_id, month
        ), per_person AS (
            SELECT person_id, sum(n)::INTEGER AS year_total, max(n)::INTEGER AS month_max
            FROM monthly GROUP BY person_id
        )
        SELECT p.person_id,
               coalesce(h.year_total, 0) AS ed_12_months,
               coalesce(h.month_max, 0) AS ed_most_in_a_month,
               (coalesce(h.month_max, 0) > $nhs_month OR coalesce(h.year_total, 0) > $nhs_year)
                   AS hiu_nhs,
               coalesce(h.year_total, 0) >= $brc_year AS hiu_brc
        FROM persons p
        LEFT JOIN per_person h ON h.person_id = p.person_id
        WHERE p.date_of_birth IS NULL OR p.date_of_birth <= $born_by
        ORDER BY p.person_id
        """,
        params={
            "start": rule.window_start,
            "as_of": rule.as_of,
            "born_by": rule.born_on_or_before,
            "nhs_month": hiu.nhs_month_over,
            "nhs_year": hiu.nhs_year_over,
            "brc_year": hiu.brc_year_at_least,
        },
    ).to_arrow_table()
    con.close()
    return table


# --- The same cohort on Spark (for partnerships whose index outgrows one machine).

_SPARK_COHORT: Final = """
WITH windowed AS (
    SELECT e.person_id, e.kind, e.event_type, d.domain
    FROM {events} e
    LEFT JOIN {domain_map} d
      ON d.kind <=> e.kind AND d.event_type <=> e.event_type
     AND d.role <=> e.role AND d.reason_category <=> e.reason_category
    WHERE e.event_date > DATE '{start}' AND e.event_date <= DATE '{as_of}'
), per_person AS (
    SELECT person_id,
           array_sort(collect_set(domain)) AS domains,
           count_if(kind = 'ed' AND event_type = 'attendance') AS ed
    FROM windowed
    GROUP BY person_id
)
SELECT p.person_id,
       CASE WHEN w.domains IS NULL THEN '' ELSE array_join(w.domains, ';') END AS domains,
       CAST(CASE WHEN w.domains IS NULL THEN 0 ELSE size(w.domains) END AS INT) AS n_domains,
       CAST(CASE WHEN (CASE WHEN w.domains IS NULL THEN 0 ELSE size(w.domains) END)
                      >= {min_domains}
                 AND (p.date_of_birth IS NULL OR p.date_of_birth <= DATE '{born_by}')
            THEN 1 ELSE 0 END AS INT) AS smd,
       CAST(coalesce(w.ed, 0) AS INT) AS ed_attendances
FROM {persons} p
LEFT JOIN per_person w ON w.person_id = p.person_id
ORDER BY p.person_id
"""


def cohort_spark(
    events: pa.Table,
    persons: pa.Table,
    rule: CohortRule,
    *,
    spark: Any,
    mapping: Mapping[feeds.DomainKey, str | None] | None = None,
    ed_reason_domains: Mapping[str, str] | None = None,
) -> pa.Table:
    """:func:`cohort` computed by a Spark session (same rows, same order, same types)."""
    names = {}
    for key, table in (
        ("events", events),
        ("persons", persons),
        ("domain_map", _domain_table(events, mapping, ed_reason_domains)),
    ):
        names[key] = f"onestory_cohort_{key}"
        spark.createDataFrame(table).createOrReplaceTempView(names[key])
    sql = _SPARK_COHORT.format(
        **names,
        start=rule.window_start.isoformat(),
        as_of=rule.as_of.isoformat(),
        born_by=rule.born_on_or_before.isoformat(),
        min_domains=int(rule.min_domains),
    )
    result: pa.Table = spark.sql(sql).toArrow()
    return result.cast(
        pa.schema(
            [
                ("person_id", events.schema.field("person_id").type),
                ("domains", pa.string()),
                ("n_domains", pa.int32()),
                ("smd", pa.int32()),
                ("ed_attendances", pa.int32()),
            ]
        )
    )
