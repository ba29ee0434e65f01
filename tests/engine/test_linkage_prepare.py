"""Standardising feed rows for linkage: one row at a time, and the fast paths' agreement
with ``standardise``."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onestory_engine import standardise
from onestory_engine.linkage import LINKAGE_SCHEMA, prepare
from onestory_engine.linkage.prepare import (
    address_clean,
    email_clean,
    nhs_number_fast,
    no_fixed_abode_fast,
    phone_clean,
    sex_clean,
)


def one(**row: str) -> dict[str, object]:
    table = prepare([{"record_id": "x|1", **row}])
    assert table.schema == LINKAGE_SCHEMA
    first: dict[str, object] = table.to_pylist()[0]
    return first


def test_names_are_folded_and_nicknames_canonical() -> None:
    row = one(given_name="  BILL ", family_name="O'Brien-Smith")
    assert row["given"] == "bill"
    assert row["given_canon"] == "william"
    assert row["family"] == "obrien smith"
    assert row["family_joined"] == "obriensmith"
    assert row["family_tokens"] == ["obrien", "smith"]


def test_accents_and_case_do_not_matter() -> None:
    assert (
        one(given_name="Zoë", family_name="MÜLLER")["profile_key"]
        == one(given_name="zoe", family_name="Muller")["profile_key"]
    )


def test_dates_of_birth_in_both_formats_with_transposed_form_and_placeholder() -> None:
    iso = one(date_of_birth="1984-03-07")
    uk = one(date_of_birth="07/03/1984")
    assert iso["dob"] == uk["dob"] == "1984-03-07"
    assert iso["dob_transposed"] == "1984-07-03"
    assert iso["dob_year"] == "1984"
    assert iso["dob_placeholder"] is False
    assert one(date_of_birth="01/01/1990")["dob_placeholder"] is True
    assert one(date_of_birth="1984-03-13")["dob_transposed"] is None
    assert one(date_of_birth="31/02/1984")["dob"] is None
    assert one(date_of_birth="not a date")["dob"] is None


def test_identifiers_are_kept_only_when_valid() -> None:
    assert one(nhs_number="943 476 5919")["nhs_number"] == "9434765919"
    assert one(nhs_number="943 476 5910")["nhs_number"] is None  # wrong check digit
    assert one(pnc_id="2002/0073319Z")["pnc_id"] == "02/0073319Z"
    assert one(pnc_id="02/0073319A")["pnc_id"] is None


def test_no_fixed_abode_is_not_an_address() -> None:
    row = one(address_line="N.F.A.", postcode="NG1 5FT")
    assert row["no_fixed_abode"] is True
    assert row["postcode"] is None and row["address"] is None
    pseudo = one(address_line="", postcode="ZZ99 3VZ")
    assert pseudo["no_fixed_abode"] is True and pseudo["postcode"] is None
    home = one(address_line="Flat 7, 144 Pearson Rd", postcode="ng15ft")
    assert home["no_fixed_abode"] is False
    assert home["postcode"] == "NG1 5FT" and home["postcode_outward"] == "NG1"
    assert home["address"] == "flat 7 144 pearson road"


def test_missing_columns_and_empty_values_are_null() -> None:
    row = one(given_name="Ann")
    for column in ("family", "dob", "sex", "nhs_number", "pnc_id", "postcode", "phone", "email"):
        assert row[column] is None


def test_record_ids_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        prepare([{"record_id": "a"}, {"record_id": "a"}])


def test_small_cleaners() -> None:
    assert address_clean("12 High St") == "12 high street"
    assert address_clean("St Ann's Well Road") == "st anns well road"
    assert address_clean("No fixed abode") is None
    assert phone_clean("+44 7700 900123") == "07700900123"
    assert phone_clean("07700 900123") == "07700900123"
    assert phone_clean("123") is None
    assert email_clean(" Ann.Lee@Example.COM ") == "ann.lee@example.com"
    assert email_clean("not an email") is None
    assert sex_clean("f") == "F" and sex_clean("U") is None and sex_clean("X") == "X"


NHS_TEXT = st.one_of(
    st.text(alphabet="0123456789 -", max_size=14),
    st.builds(
        lambda d, sep: f"{d[:3]}{sep}{d[3:6]}{sep}{d[6:]}",
        st.text(alphabet="0123456789", min_size=10, max_size=10),
        st.sampled_from(["", " ", "-", "  "]),
    ),
    st.text(max_size=12),
)


@given(NHS_TEXT)
@settings(max_examples=400, deadline=None)
def test_fast_nhs_number_agrees_with_standardise(raw: str) -> None:
    assert nhs_number_fast(raw) == standardise.nhs_number_clean(raw)


NFA_TEXT = st.one_of(
    st.sampled_from(
        [
            "No fixed abode",
            "NFA",
            "N.F.A.",
            "n f a",
            "of no fixed abode",
            "homeless",
            "Street homeless",
            "rough sleeper",
            "ZZ99 3VZ",
            "zz993vz",
            "NFA - sofa surfing",
            "Homeless Hostel, 12 Shakespeare Street",
            "12 Norton Road",
            "no abode",
            "N . F . A",
        ]
    ),
    st.text(alphabet="abcdefnoxz .-,0123456789ABFNZ", max_size=25),
)


@given(NFA_TEXT)
@settings(max_examples=400, deadline=None)
def test_fast_no_fixed_abode_agrees_with_standardise(text: str) -> None:
    assert no_fixed_abode_fast(text) == standardise.is_no_fixed_abode(text)
