"""The SMD cohort on the person index (contract: shared/spec/feeds.md, "SMD cohort").

A person is in the cohort when their linked events show at least ``min_domains`` of the
five domains in the window ``(as_of - months, as_of]`` and they are ``min_age`` or over on
the as-of date (or their date of birth is unknown). ED attendances are counted in the same
window. The kind/event type/role -> domain mapping is configuration (``feeds``).

Tables in, a table out; computed in DuckDB. No Django here.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
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
    ed_reason_domains: Mapping[str, str] | None = None,
    spark: Any = None,
) -> list[dict[str, Any]]:
    """:func:`by_name_table` as a list of ``{"month", "person_id", "status"}`` dicts."""
    rows: list[dict[str, Any]] = by_name_table(
        events,
        persons,
        closures,
        months=months,
        rule=rule,
        mapping=mapping,
        ed_reason_domains=ed_reason_domains,
        spark=spark,
    ).to_pylist()
    return rows


MAX_MONTHS: Final = 60  # month masks are 64-bit integers


def by_name_table(
    events: pa.Table,
    persons: pa.Table,
    closures: Mapping[int, list[tuple[date, str]]],
    *,
    months: list[date],
    rule: CohortRule,
    mapping: Mapping[feeds.DomainKey, str | None] | None = None,
    ed_reason_domains: Mapping[str, str] | None = None,
    spark: Any = None,
) -> pa.Table:
    """Each person's status on the by-name list at each month end in ``months`` (ascending
    month ends; the last may be a month in progress): a table of ``month, person_id,
    status`` for people who are on the list, arrive or leave that month, ordered by month
    and person. ``closures`` maps a person to their support closures (date, reason).

    The rules, month by month:

    * someone on the list last month stays (``active``) unless their support was closed
      this month with an outflow reason (``outflow_housed``/``outflow_inactive``) or they
      no longer meet the cohort rule (``outflow_criteria``);
    * someone not on it arrives when they meet the rule (``inflow_new``, or
      ``inflow_returned`` if they were on it before), except that after a housed or
      inactive closure they stay off until a new event of any kind arrives; in the first
      month everyone who meets the rule is simply ``active``.

    Computed in two steps: per person, a 64-bit mask of the months in which each domain is
    in the window (the only step that reads every event; on Spark when ``spark`` is a
    session), then the statuses from those masks in DuckDB (people with a closure in the
    period go through the same rules one by one, as a closure depends on the month before).
    """
    if not months:
        return _empty_by_name()
    if len(months) > MAX_MONTHS:
        raise ValueError(f"at most {MAX_MONTHS} months at a time, not {len(months)}")
    if list(months) != sorted(set(months)):
        raise ValueError("months must be distinct and in ascending order")
    calendar = _month_calendar(months, rule)
    days = _day_ranges(months, rule)
    domains = _domain_table(events, mapping, ed_reason_domains)
    if spark is None:
        masks = _masks_duckdb(events, persons, domains, days, rule.min_domains)
    else:
        masks = _masks_spark(events, persons, domains, days, rule.min_domains, spark=spark)
    return _statuses(masks, calendar, closures, rule.min_domains)


def _empty_by_name() -> pa.Table:
    return pa.table(
        {
            "month": pa.array([], pa.date32()),
            "person_id": pa.array([], pa.int64()),
            "status": pa.array([], pa.string()),
        }
    )


def _month_calendar(months: list[date], rule: CohortRule) -> pa.Table:
    """One row per month: index ``i``, ``month_end``, ``previous_end`` (the day before the
    month opens) and ``born_by`` (the latest date of birth that is old enough)."""
    previous = [months[0].replace(day=1) - _ONE_DAY, *months[:-1]]
    born = [CohortRule(m, rule.months, rule.min_domains, rule.min_age).born_on_or_before
            for m in months]  # fmt: skip
    return pa.table(
        {
            "i": pa.array(range(len(months)), pa.int32()),
            "month_end": pa.array(months, pa.date32()),
            "previous_end": pa.array(previous, pa.date32()),
            "born_by": pa.array(born, pa.date32()),
        }
    )


def _day_ranges(months: list[date], rule: CohortRule) -> pa.Table:
    """For every day an event can matter on: the first and last month (``lo``, ``hi``)
    whose window holds it, and the month (``ev``) it falls in (null before the first)."""
    starts = [add_months(m, -rule.months) for m in months]
    previous = [months[0].replace(day=1) - _ONE_DAY, *months[:-1]]
    first = min(starts[0], previous[0]) + _ONE_DAY
    rows: dict[str, list[Any]] = {"event_date": [], "lo": [], "hi": [], "ev": []}
    day = first
    while day <= months[-1]:
        inside = [i for i, (s, m) in enumerate(zip(starts, months, strict=True)) if s < day <= m]
        falls = [i for i, (p, m) in enumerate(zip(previous, months, strict=True)) if p < day <= m]
        rows["event_date"].append(day)
        rows["lo"].append(inside[0] if inside else None)
        rows["hi"].append(inside[-1] if inside else None)
        rows["ev"].append(falls[0] if falls else None)
        day += _ONE_DAY
    return pa.table(
        {
            "event_date": pa.array(rows["event_date"], pa.date32()),
            "lo": pa.array(rows["lo"], pa.int32()),
            "hi": pa.array(rows["hi"], pa.int32()),
            "ev": pa.array(rows["ev"], pa.int32()),
        }
    )


_ONE_DAY: Final = timedelta(days=1)


def _mask_columns() -> str:
    return ",\n".join(
        f"coalesce(bit_or(mask) FILTER (WHERE domain = '{d}'), 0) AS d_{d}" for d in feeds.DOMAINS
    )


_MASKS_DUCKDB: Final = """
WITH tagged AS (
    SELECT e.person_id, dm.domain, r.lo, r.hi, r.ev
    FROM events e
    JOIN day_ranges r ON r.event_date = e.event_date
    LEFT JOIN domain_map dm
      ON dm.kind IS NOT DISTINCT FROM e.kind
     AND dm.event_type IS NOT DISTINCT FROM e.event_type
     AND dm.role IS NOT DISTINCT FROM e.role
     AND dm.reason_category IS NOT DISTINCT FROM e.reason_category
), per_domain AS (
    SELECT person_id, domain,
           bit_or((1::BIGINT << (hi + 1)) - (1::BIGINT << lo)) AS mask
    FROM tagged
    WHERE domain IS NOT NULL AND lo IS NOT NULL
    GROUP BY person_id, domain
), candidates AS (
    SELECT person_id, {domain_masks}
    FROM per_domain
    GROUP BY person_id
    HAVING count(*) >= $min_domains
), seen AS (
    SELECT t.person_id, bit_or(1::BIGINT << t.ev) AS ev_mask
    FROM tagged t SEMI JOIN candidates c ON c.person_id = t.person_id
    WHERE t.ev IS NOT NULL
    GROUP BY t.person_id
)
SELECT c.*, p.date_of_birth, coalesce(s.ev_mask, 0) AS ev_mask
FROM candidates c
JOIN persons p ON p.person_id = c.person_id
LEFT JOIN seen s ON s.person_id = c.person_id
"""


def _masks_duckdb(
    events: pa.Table, persons: pa.Table, domains: pa.Table, days: pa.Table, min_domains: int
) -> pa.Table:
    con = duckdb.connect()
    for name, table in (
        ("events", events.select(list(EVENT_COLUMNS))),
        ("persons", persons.select(list(PERSON_COLUMNS))),
        ("domain_map", domains),
        ("day_ranges", days),
    ):
        con.register(name, table)
    result = con.sql(
        _MASKS_DUCKDB.format(domain_masks=_mask_columns()), params={"min_domains": min_domains}
    ).to_arrow_table()
    con.close()
    return _typed_masks(result)


_MASKS_SPARK: Final = """
WITH tagged AS (
    SELECT e.person_id, dm.domain, r.lo, r.hi, r.ev
    FROM {events} e
    JOIN {day_ranges} r ON r.event_date = e.event_date
    LEFT JOIN {domain_map} dm
      ON dm.kind <=> e.kind AND dm.event_type <=> e.event_type
     AND dm.role <=> e.role AND dm.reason_category <=> e.reason_category
), per_domain AS (
    SELECT person_id, domain,
           bit_or(shiftleft(CAST(1 AS BIGINT), hi + 1) - shiftleft(CAST(1 AS BIGINT), lo))
               AS mask
    FROM tagged
    WHERE domain IS NOT NULL AND lo IS NOT NULL
    GROUP BY person_id, domain
), candidates AS (
    SELECT person_id, {domain_masks}
    FROM per_domain
    GROUP BY person_id
    HAVING count(*) >= {min_domains}
), seen AS (
    SELECT t.person_id, bit_or(shiftleft(CAST(1 AS BIGINT), t.ev)) AS ev_mask
    FROM tagged t LEFT SEMI JOIN candidates c ON c.person_id = t.person_id
    WHERE t.ev IS NOT NULL
    GROUP BY t.person_id
)
SELECT c.*, p.date_of_birth, coalesce(s.ev_mask, CAST(0 AS BIGINT)) AS ev_mask
FROM candidates c
JOIN {persons} p ON p.person_id = c.person_id
LEFT JOIN seen s ON s.person_id = c.person_id
"""


def _masks_spark(
    events: pa.Table,
    persons: pa.Table,
    domains: pa.Table,
    days: pa.Table,
    min_domains: int,
    *,
    spark: Any,
) -> pa.Table:
    names = {}
    for key, table in (
        ("events", events.select(list(EVENT_COLUMNS))),
        ("persons", persons.select(list(PERSON_COLUMNS))),
        ("domain_map", domains),
        ("day_ranges", days),
    ):
        names[key] = f"onestory_by_name_{key}"
        spark.createDataFrame(table).createOrReplaceTempView(names[key])
    sql = _MASKS_SPARK.format(**names, domain_masks=_mask_columns(), min_domains=int(min_domains))
    result: pa.Table = spark.sql(sql).toArrow()
    return _typed_masks(result)


def _typed_masks(table: pa.Table) -> pa.Table:
    fields = [("person_id", pa.int64())]
    fields += [(f"d_{d}", pa.int64()) for d in feeds.DOMAINS]
    fields += [("date_of_birth", pa.date32()), ("ev_mask", pa.int64())]
    return table.select([n for n, _ in fields]).cast(pa.schema(fields))


_STATUSES: Final = """
WITH grid AS (
    SELECT c.person_id, m.i, m.month_end,
           ({bit_count}) >= $min_domains
             AND (c.date_of_birth IS NULL OR c.date_of_birth <= m.born_by) AS meets
    FROM masks c CROSS JOIN calendar m
    WHERE c.person_id NOT IN (SELECT person_id FROM closed)
), flow AS (
    SELECT *,
           coalesce(lag(meets) OVER w, false) AS before,
           coalesce(bool_or(meets) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                    false) AS ever
    FROM grid
    WINDOW w AS (PARTITION BY person_id ORDER BY i)
)
SELECT month_end AS month, person_id,
       CASE WHEN before AND meets THEN 'active'
            WHEN before THEN 'outflow_criteria'
            WHEN i = 0 THEN 'active'
            WHEN ever THEN 'inflow_returned'
            ELSE 'inflow_new' END AS status
FROM flow
WHERE before OR meets
"""


def _statuses(
    masks: pa.Table,
    calendar: pa.Table,
    closures: Mapping[int, list[tuple[date, str]]],
    min_domains: int,
) -> pa.Table:
    """The by-name list from the month masks. People with no closure in the period are on
    the list exactly in the months they meet the rule (one DuckDB query); the few with a
    closure follow the rules month by month."""
    month_list: list[date] = calendar.column("month_end").to_pylist()
    previous: list[date] = calendar.column("previous_end").to_pylist()
    candidates = set(masks.column("person_id").to_pylist())
    closed_in: dict[int, dict[int, str]] = {}
    for person_id, items in closures.items():
        if person_id not in candidates:
            continue
        for closed_on, reason in items:
            if reason not in CLOSURE_OUTFLOW:
                continue
            i = bisect.bisect_left(month_list, closed_on)
            if i < len(month_list) and previous[i] < closed_on:
                closed_in.setdefault(person_id, {})[i] = CLOSURE_OUTFLOW[reason]
    bits = " + ".join(f"((c.d_{d} >> m.i) & 1)" for d in feeds.DOMAINS)
    con = duckdb.connect()
    con.register("masks", masks)
    con.register("calendar", calendar)
    con.register("closed", pa.table({"person_id": pa.array(sorted(closed_in), pa.int64())}))
    plain = con.sql(
        _STATUSES.format(bit_count=bits), params={"min_domains": min_domains}
    ).to_arrow_table()
    meets_closed = con.sql(
        f"""
        SELECT c.person_id, list(({bits}) >= $min_domains
                AND (c.date_of_birth IS NULL OR c.date_of_birth <= m.born_by) ORDER BY m.i),
               any_value(c.ev_mask)
        FROM masks c CROSS JOIN calendar m
        WHERE c.person_id IN (SELECT person_id FROM closed)
        GROUP BY c.person_id
        """,  # noqa: S608 - constants and settings, no input
        params={"min_domains": min_domains},
    ).fetchall()
    rows: dict[str, list[Any]] = {"month": [], "person_id": [], "status": []}
    for person_id, meets, ev_mask in meets_closed:
        for i, status in _one_person(meets, closed_in[person_id], ev_mask):
            rows["month"].append(month_list[i])
            rows["person_id"].append(person_id)
            rows["status"].append(status)
    stepped = pa.table(
        {
            "month": pa.array(rows["month"], pa.date32()),
            "person_id": pa.array(rows["person_id"], pa.int64()),
            "status": pa.array(rows["status"], pa.string()),
        }
    )
    con.register("plain", plain.cast(stepped.schema))
    con.register("stepped", stepped)
    result = con.sql(
        "SELECT * FROM (SELECT * FROM plain UNION ALL SELECT * FROM stepped) "
        "ORDER BY month, person_id"
    ).to_arrow_table()
    con.close()
    return result.cast(stepped.schema)


def _one_person(
    meets: list[bool], closed: Mapping[int, str], ev_mask: int
) -> Iterator[tuple[int, str]]:
    """One person's statuses month by month (the rules of :func:`by_name_table`)."""
    on = ever = False
    gone = -1  # the month of a housed or inactive closure while on the list
    for i, meets_now in enumerate(meets):
        closure = closed.get(i)
        if on:
            if closure is not None:
                yield i, closure
                on, gone = False, i
            elif not meets_now:
                yield i, OUTFLOW_CRITERIA
                on = False
            else:
                yield i, ACTIVE
        elif meets_now and closure is None:
            if gone >= 0 and not (ev_mask >> (gone + 1)) & ((1 << (i - gone)) - 1):
                continue  # still housed or inactive: nothing new has happened
            yield i, ACTIVE if i == 0 else (INFLOW_RETURNED if ever else INFLOW_NEW)
            on, gone = True, -1
        ever = ever or on


def overlaps(cohort_table: pa.Table) -> pa.Table:
    """People in the cohort (``smd`` 1) by the exact combination of domains they face
    (an UpSet plot's intersections): ``domains`` (as in :func:`cohort`), ``people``,
    largest first."""
    con = duckdb.connect()
    con.register("cohort", cohort_table.select(["domains", "smd"]))
    result = con.sql(
        """
        SELECT domains, count(*)::INTEGER AS people
        FROM cohort WHERE smd = 1
        GROUP BY domains
        ORDER BY people DESC, domains
        """
    ).to_arrow_table()
    con.close()
    return result


SERVICE_USE: Final = {
    "ed_attendances": "kind = 'ed' AND event_type = 'attendance'",
    "ambulance_arrivals": (
        "kind = 'ed' AND event_type = 'attendance' AND arrival_mode = 'ambulance'"
    ),
    "police_custody": "kind = 'police' AND event_type IN ('arrest', 'custody')",
}
"""Emergency service use counted for the cohort: A&E attendances, arrivals at A&E by
ambulance, and police arrests and custody (the police cells of the mission)."""


def service_use(events: pa.Table, people: pa.Array | list[int], months: list[date]) -> pa.Table:
    """Month by month (``months`` are month ends, ascending), the events of ``people``:
    one row per month with a column for each of :data:`SERVICE_USE`. ``events`` may carry an
    ``arrival_mode`` column; without it there are no ambulance arrivals to count."""
    if "arrival_mode" not in events.column_names:
        events = events.append_column(
            "arrival_mode", pa.nulls(events.num_rows, pa.string())
        )  # fmt: skip
    calendar = pa.table(
        {
            "month": pa.array(months, pa.date32()),
            "previous_end": pa.array(
                [months[0].replace(day=1) - _ONE_DAY, *months[:-1]] if months else [], pa.date32()
            ),
        }
    )
    counts = ",\n".join(
        f"count(e.person_id) FILTER (WHERE {rule})::INTEGER AS {name}"
        for name, rule in SERVICE_USE.items()
    )
    con = duckdb.connect()
    con.register("events", events.select(["person_id", "kind", "event_type", "event_date",
                                          "arrival_mode"]))  # fmt: skip
    con.register("people", pa.table({"person_id": pa.array(people, pa.int64())}))
    con.register("calendar", calendar)
    result = con.sql(
        f"""
        SELECT m.month, {counts}
        FROM calendar m
        LEFT JOIN (SELECT e.* FROM events e SEMI JOIN people p ON p.person_id = e.person_id) e
          ON e.event_date > m.previous_end AND e.event_date <= m.month
        GROUP BY m.month
        ORDER BY m.month
        """  # noqa: S608 - constants and settings, no input
    ).to_arrow_table()
    con.close()
    return result


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
