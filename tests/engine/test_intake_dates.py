"""Dates read on whole columns (the import's fast path) against ``parse_date_strict`` one
value at a time: the same date or the same reason for every value."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from onestory_engine.intake import _date_rule, _dates, _nhs, _nhs_numbers

# Values shaped like dates and near misses: digits (and another script's), separators,
# spaces, times of day.
pieces = st.sampled_from(
    ["0", "1", "2", "9", "00", "02", "04", "12", "13", "29", "30", "31", "1900", "2000", "2019",
     "2020", "2100", "0000", "-", "/", " ", "T10:00", "T23:59:59", " 07:05:00", "T24:00",
     ":60", "T", ":", "٢", "x"]
)  # fmt: skip
values = st.lists(pieces, max_size=7).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.lists(values, min_size=1, max_size=30))
def test_dates_on_whole_columns_match_the_rule_value_by_value(texts: list[str]) -> None:
    rule = _date_rule("date_of_birth")
    dates, reasons = _dates(pa.array(texts, pa.string()), "date_of_birth")
    assert list(zip(dates.to_pylist(), reasons.to_pylist(), strict=True)) == [
        rule(t) for t in texts
    ]


def test_real_and_unreal_dates_in_both_formats() -> None:
    texts = ["2020-02-29", "2019-02-29", "1/2/2020", "31/04/2020", "29/2/2000", "29/2/1900"]
    dates, reasons = _dates(pa.array(texts), "event_date")
    assert [d and d.isoformat() for d in dates.to_pylist()] == [
        "2020-02-29", None, "2020-02-01", None, "2000-02-29", None,
    ]  # fmt: skip
    assert reasons.to_pylist()[1] == (
        "event_date '2019-02-29' is not a date ('2019-02-29' is not a real date "
        "(day 29, month 2, year 2019))"
    )


nhs_pieces = st.sampled_from(
    ["943", "476", "5919", "9434765919", "0000000000", "1111111111", "401", "023", "2", " ",
     "-", "–", "٣", "\t", "x", "94347659", "19"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(nhs_pieces, max_size=6).map("".join), min_size=1, max_size=30))
def test_nhs_numbers_on_whole_columns_match_the_rule_value_by_value(texts: list[str]) -> None:
    nhs, invalid = _nhs_numbers(pa.array(texts, pa.string()))
    assert list(zip(nhs.to_pylist(), invalid.to_pylist(), strict=True)) == [_nhs(t) for t in texts]


def test_nhs_numbers_valid_invalid_and_unknown() -> None:
    texts = ["943 476 5919", "943-476-5919", "9434765918", "0000000000", "", " 9434765919 "]
    nhs, invalid = _nhs_numbers(pa.array(texts))
    assert nhs.to_pylist() == ["9434765919", "9434765919", "", "", "", "9434765919"]
    assert invalid.to_pylist() == [False, False, True, True, False, False]
