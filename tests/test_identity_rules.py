"""A person's identity from their records: the vectorised rules (``index.identities``)
against the rules written out one record at a time, on many random sets of records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from onestory.intake.index import IDENTITY_FIELDS, RECORD_IDENTITY, identities


def _most_common(values: Iterable[Any]) -> Any:
    counted = Counter(v for v in values if v not in ("", None))
    return counted.most_common(1)[0][0] if counted else None


def _reference(rows: list[dict[str, Any]]) -> tuple[Any, ...]:
    """The rules as the person page explains them, over one person's records in order."""
    dob = _most_common(r["date_of_birth"] for r in rows if not r["dob_placeholder"])
    place = [r for r in rows if r["no_fixed_abode"] or r["postcode"] or r["address_line"]]
    latest = place[-1] if place else None
    return (
        _most_common(r["given_name"].title() for r in rows) or "",
        _most_common(r["family_name"].title() for r in rows) or "",
        _most_common(r["middle_names"].title() for r in rows) or "",
        dob or _most_common(r["date_of_birth"] for r in rows),
        _most_common(r["sex"] for r in rows if r["sex"] != "U") or "U",
        _most_common(r["nhs_number"] for r in rows) or "",
        _most_common(r["pnc_id"] for r in rows) or "",
        latest["no_fixed_abode"] if latest else False,
        latest["address_line"].title() if latest else "",
        latest["postcode"] if latest else "",
        next((r["phone"] for r in reversed(rows) if r["phone"]), ""),
        next((r["email"] for r in reversed(rows) if r["email"]), ""),
    )


names = st.sampled_from(["", "ann", "ANN", "Ann", "bob", "mary-jane", "o'neil", "éva"])
dates = st.one_of(
    st.none(), st.sampled_from([date(1980, 1, 1), date(1980, 3, 4), date(1979, 4, 3)])
)
record = st.fixed_dictionaries(
    {
        "person_id": st.integers(1, 4),
        "event_date": dates,
        "given_name": names,
        "family_name": names,
        "middle_names": names,
        "date_of_birth": dates,
        "dob_placeholder": st.booleans(),
        "sex": st.sampled_from(["U", "F", "M", ""]),
        "nhs_number": st.sampled_from(["", "9434765919", "9434765870"]),
        "pnc_id": st.sampled_from(["", "12/345678A"]),
        "no_fixed_abode": st.booleans(),
        "postcode": st.sampled_from(["", "NG1 1AA", "NG7 2RD"]),
        "address_line": st.sampled_from(["", "1 high street", "FLAT 2"]),
        "phone": st.sampled_from(["", "07700900123", "07700900456"]),
        "email": st.sampled_from(["", "a@example.org"]),
    }
)


@settings(max_examples=300, deadline=None)
@given(st.lists(record, min_size=1, max_size=14))
def test_identity_rules_match_the_rules_one_record_at_a_time(rows: list[dict[str, Any]]) -> None:
    for pk, row in enumerate(rows, start=1):
        row["pk"] = pk
    types = {
        "person_id": pa.int64(), "pk": pa.int64(), "event_date": pa.date32(),
        "date_of_birth": pa.date32(), "dob_placeholder": pa.bool_(),
        "no_fixed_abode": pa.bool_(),
    }  # fmt: skip
    table = pa.table(
        {c: pa.array([r[c] for r in rows], types.get(c, pa.string())) for c in RECORD_IDENTITY}
    )
    got = {
        row["id"]: tuple(row[f] for f in IDENTITY_FIELDS) for row in identities(table).to_pylist()
    }
    ordered = sorted(
        rows,
        key=lambda r: (
            r["person_id"],
            r["event_date"] is not None,
            r["event_date"] or date.min,
            r["pk"],
        ),
    )
    expected = {
        p: _reference([r for r in ordered if r["person_id"] == p])
        for p in {r["person_id"] for r in rows}
    }
    assert got == expected
