"""Standardising NHS numbers, PNC ids, postcodes, names and dates."""

import random
from datetime import date, datetime

import pytest
from stdnum.gb import nhs

from onestory_engine import standardise as st

# --- NHS number -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    # The last is written in full-width digits, as some East Asian keyboards type them.
    [
        "9434765919",
        "943 476 5919",
        "943-476-5919",
        " 9434765919 ",
        "\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19",
    ],
)
def test_valid_nhs_number_is_cleaned_to_ten_digits(raw: str) -> None:
    assert st.nhs_number_clean(raw) == "9434765919"
    assert st.nhs_number_is_valid(raw)


@pytest.mark.parametrize("last", [d for d in "0123456789" if d != "9"])
def test_changing_the_check_digit_makes_it_invalid(last: str) -> None:
    assert not st.nhs_number_is_valid("943476591" + last)
    assert st.nhs_number_clean("943476591" + last) is None


@pytest.mark.parametrize(
    "raw",
    [None, "", "943476591", "94347659190", "94347659l9", "943 476 591 9x", "0000000000"],
)
def test_malformed_nhs_numbers_are_invalid(raw: str | None) -> None:
    assert st.nhs_number_clean(raw) is None


def test_check_digit_agrees_with_stdnum() -> None:
    rng = random.Random(1)
    checked = 0
    for _ in range(2000):
        nine = f"{rng.randint(100_000_000, 999_999_999)}"
        check = st.nhs_check_digit(nine)
        if check is None:
            assert not any(nhs.is_valid(nine + str(d)) for d in range(10))
            continue
        checked += 1
        assert nhs.is_valid(nine + str(check))
        assert [d for d in range(10) if nhs.is_valid(nine + str(d))] == [check]
    assert checked > 1500


# --- PNC id -----------------------------------------------------------------------------------


# Real-format ids from the Ministry of Justice's person-record service tests.
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2001/0171310W", "01/0171310W"),
        ("20030011985X", "03/0011985X"),
        ("1981/0154257C", "81/0154257C"),
        ("2011/0275516Q", "11/0275516Q"),
        ("01/171310W", "01/0171310W"),
        ("01/0171310w", "01/0171310W"),
        (" 01 / 0171310 W ", "01/0171310W"),
        ("010171310W", "01/0171310W"),
    ],
)
def test_pnc_id_is_normalised(raw: str, expected: str) -> None:
    assert st.pnc_id_clean(raw) == expected
    assert st.pnc_id_is_valid(raw)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "2001/0171310S",  # wrong check letter
        "20030011985Z",
        "01/0171310X",
        "xx/123456Z",
        "1X23/1234567A",
        "1923/1Z34567A",
        "01/12345678A",  # serial too long
        "garbage",
    ],
)
def test_bad_pnc_ids_are_refused(raw: str | None) -> None:
    assert st.pnc_id_clean(raw) is None


def test_pnc_check_letter() -> None:
    assert st.pnc_check_letter(1, 171310) == "W"
    assert st.pnc_check_letter("2001", "0171310") == "W"
    assert st.pnc_check_letter(0, 0) == "Z"  # 0 mod 23 is the first letter


# --- postcodes and no fixed abode ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("NG1 5FT", "NG1 5FT"),
        ("ng15ft", "NG1 5FT"),
        ("  ng1   5ft ", "NG1 5FT"),
        ("NG17 7AB", "NG17 7AB"),
        ("sw1a1aa", "SW1A 1AA"),
        ("W1A 0AX", "W1A 0AX"),
        ("M1 1AE", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55 1PT"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("GIR 0AA", "GIR 0AA"),
    ],
)
def test_postcodes_are_canonical(raw: str, expected: str) -> None:
    assert st.postcode_clean(raw) == expected


@pytest.mark.parametrize(
    "raw", [None, "", "NG1", "NG1 5", "12345", "QQ1 1AA", "NG1 5CT", "NG1 5FTX", "ZZ99 3VZ", "NFA"]
)
def test_non_postcodes_are_refused(raw: str | None) -> None:
    assert st.postcode_clean(raw) is None


@pytest.mark.parametrize(
    "text",
    [
        "No fixed abode",
        "NO FIXED ABODE",
        "NFA",
        "nfa ",
        "N.F.A.",
        "n f a",
        "No fixed address",
        "of no fixed abode",
        "NFA - sofa surfing",
        "Homeless",
        "rough sleeper",
        "ZZ99 3VZ",
        "zz993vz",
    ],
)
def test_no_fixed_abode_is_recognised(text: str) -> None:
    assert st.is_no_fixed_abode(text)


@pytest.mark.parametrize(
    "text",
    [None, "", "12 High Street", "Homeless Hostel, 1 Shakespeare Street", "Nfarm Road", "NG1 5FT"],
)
def test_addresses_are_not_no_fixed_abode(text: str | None) -> None:
    assert not st.is_no_fixed_abode(text)


def test_postcode_is_nfa_looks_at_both_fields() -> None:
    assert st.postcode_is_nfa("No fixed abode", "")
    assert st.postcode_is_nfa("", "ZZ99 3VZ")
    assert st.postcode_is_nfa(None, "NFA")
    assert not st.postcode_is_nfa("12 High Street", "NG1 5FT")
    assert not st.postcode_is_nfa(None, None)


# --- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("O'Brien", "obrien"),
        ("O’Brien", "obrien"),
        ("Smith-Jones", "smith jones"),
        ("  MARY   Ann ", "mary ann"),
        ("Zoë", "zoe"),
        ("Siân", "sian"),
        ("Łukasz", "lukasz"),
        ("Søren", "soren"),
        ("J. R.", "j r"),
        ("Ó Súilleabháin", "o suilleabhain"),
        ("", ""),
        (None, ""),
        ("123", ""),
    ],
)
def test_name_clean(raw: str | None, expected: str) -> None:
    assert st.name_clean(raw) == expected


def test_name_tokens_and_joined_match_double_barrelled_names() -> None:
    assert st.name_tokens("Smith-Jones") == ("smith", "jones")
    assert st.name_tokens("smith jones") == ("smith", "jones")
    assert st.name_joined("Smith-Jones") == st.name_joined("SmithJones") == "smithjones"
    assert st.name_tokens(None) == ()


@pytest.mark.parametrize("raw", ["Bill", "billy", "WILL", "Willie", "William", " william "])
def test_william_nicknames(raw: str) -> None:
    assert st.canonical_given_name(raw) == "william"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Bob", "robert"),
        ("Rob", "robert"),
        ("Jim", "james"),
        ("Kate", "catherine"),
        ("Katie", "catherine"),
        ("Katherine", "catherine"),
        ("Liz", "elizabeth"),
        ("Beth", "elizabeth"),
        ("Tom", "thomas"),
        ("Dave", "david"),
        ("Peggy", "margaret"),
        ("Ted", "edward"),
        ("Hal", "henry"),
        # Names in use in their own right in England and Wales stay as they are.
        ("Jack", "jack"),
        ("Harry", "harry"),
        ("Liam", "liam"),
        ("Mark", "mark"),
        ("Lee", "lee"),
        ("Molly", "molly"),
        # Unknown names come back cleaned.
        ("Xanthippe", "xanthippe"),
        ("Zoë", "zoe"),
        ("Bill Bob", "william robert"),
        ("", ""),
    ],
)
def test_canonical_given_name(raw: str, expected: str) -> None:
    assert st.canonical_given_name(raw) == expected


def test_canonical_given_name_is_idempotent_and_deterministic() -> None:
    names = [*st.GIVEN_NAME_VARIANTS, *(v for vs in st.GIVEN_NAME_VARIANTS.values() for v in vs)]
    names += ["agnes", "ernie", "trudy", "sandy", "nessa", "wilma", "chris"]
    for name in names:
        once = st.canonical_given_name(name)
        assert st.canonical_given_name(once) == once, name


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "1984-03-07",
        "07/03/1984",
        "7/3/1984",
        " 07/03/1984 ",
        "1984-03-07T14:30:00",
        "1984-03-07T14:30",
        "1984-03-07 14:30:00",
        "1984-03-07T23:30:00+01:00",
        "1984-03-07T14:30:00Z",
        "1984-03-07T14:30:00.123456",
        date(1984, 3, 7),
        datetime(1984, 3, 7, 14, 30),  # noqa: DTZ001 - a spreadsheet cell has no time zone
    ],
)
def test_accepted_date_formats(raw: str | date) -> None:
    assert st.parse_date(raw) == date(1984, 3, 7)
    assert st.parse_date_strict(raw) == date(1984, 3, 7)


@pytest.mark.parametrize(
    "raw", ["1984.03.07", "07-03-1984", "07/03/84", "March 7 1984", "1984/03/07"]
)
def test_other_formats_are_refused_with_the_formats_named(raw: str) -> None:
    assert st.parse_date(raw) is None
    with pytest.raises(ValueError, match=r"YYYY-MM-DD.*DD/MM/YYYY.*ISO date-time"):
        st.parse_date_strict(raw)


@pytest.mark.parametrize("raw", ["31/02/2020", "2021-02-29", "00/01/2020", "2020-13-01"])
def test_impossible_dates_are_refused(raw: str) -> None:
    assert st.parse_date(raw) is None
    with pytest.raises(ValueError, match="not a real date"):
        st.parse_date_strict(raw)


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_empty_dates(raw: str | None) -> None:
    assert st.parse_date(raw) is None
    with pytest.raises(ValueError, match="empty"):
        st.parse_date_strict(raw)


def test_dob_placeholder() -> None:
    assert st.dob_is_placeholder(date(1980, 1, 1))
    assert not st.dob_is_placeholder(date(1980, 1, 2))
    assert not st.dob_is_placeholder(date(1980, 2, 1))
    assert not st.dob_is_placeholder(None)


def test_dob_transposed() -> None:
    assert st.dob_transposed(date(2001, 3, 4)) == date(2001, 4, 3)
    assert st.dob_transposed(date(2001, 12, 1)) == date(2001, 1, 12)
    assert st.dob_transposed(date(2001, 3, 3)) is None  # the same date
    assert st.dob_transposed(date(2001, 3, 13)) is None  # no 13th month
    assert st.dob_transposed(None) is None
