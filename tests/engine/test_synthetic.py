"""The synthetic city: contract-shaped feeds, exact ground truth, realistic structure."""

import csv
import hashlib
import os
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from onestory_engine import feeds
from onestory_engine import standardise as st
from onestory_engine.synthetic import (
    MAX_PERSONS,
    ORGANISATION_TYPES,
    SOURCES,
    City,
    Corruption,
    generate_city,
    true_cohort,
    write_feeds,
)

AS_OF = date(2025, 6, 30)
WINDOW_START = date(2023, 6, 30)  # events fall in (as_of - 24 months, as_of]


@pytest.fixture(scope="module")
def city() -> City:
    return generate_city(3000, seed=11, as_of=AS_OF)


def rows_of(city: City) -> Iterator[tuple[str, str, dict[str, str]]]:
    for name, table in city.feeds.items():
        for row in table.as_dicts():
            yield name, table.source.kind, row


def fingerprint(city: City) -> str:
    digest = hashlib.sha256()
    for name in sorted(city.feeds):
        for row in city.feeds[name].rows:
            digest.update("\x1f".join(row).encode())
    for key, person in sorted(city.truth.items()):
        digest.update(f"{key}{person}".encode())
    return digest.hexdigest()


# --- determinism --------------------------------------------------------------------------------


def test_same_seed_gives_identical_feeds_and_truth() -> None:
    first = generate_city(400, seed=5, as_of=AS_OF)
    again = generate_city(400, seed=5, as_of=AS_OF)
    assert {n: t.rows for n, t in first.feeds.items()} == {
        n: t.rows for n, t in again.feeds.items()
    }
    assert first.truth == again.truth
    assert first.people == again.people
    other = generate_city(400, seed=6, as_of=AS_OF)
    assert fingerprint(other) != fingerprint(first)


def test_determinism_does_not_depend_on_string_hashing() -> None:
    script = (
        "from datetime import date; import hashlib, sys;"
        "from onestory_engine.synthetic import generate_city;"
        "c = generate_city(300, seed=9, as_of=date(2025, 6, 30));"
        "h = hashlib.sha256();"
        "[h.update('|'.join(r).encode()) for n in sorted(c.feeds) for r in c.feeds[n].rows];"
        "print(h.hexdigest())"
    )
    digests = set()
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_size_limits() -> None:
    with pytest.raises(ValueError, match="at least one"):
        generate_city(0, seed=1, as_of=AS_OF)
    with pytest.raises(ValueError, match="test NHS numbers"):
        generate_city(MAX_PERSONS + 1, seed=1, as_of=AS_OF)


# --- the contract -------------------------------------------------------------------------------


def test_sources_cover_every_kind_with_a_partner_organisation() -> None:
    assert {s.kind for s in SOURCES} == set(feeds.FEED_KINDS)
    assert len({s.name for s in SOURCES}) == len(SOURCES)
    for source in SOURCES:
        assert source.organisation_type in ORGANISATION_TYPES
        assert source.organisation_name


def test_columns_are_the_contracts(city: City) -> None:
    for source in SOURCES:
        table = city.feeds[source.name]
        assert table.columns == feeds.columns_for(source.kind)
        assert all(len(row) == len(table.columns) for row in table.rows)
        assert len(table) > 0, source.name


def test_every_row_is_valid_under_the_contract(city: City) -> None:
    for _name, kind, row in rows_of(city):
        assert row["source_record_id"]
        assert any(row[c] for c in feeds.IDENTIFYING_COLUMNS)
        assert row["sex"] in {*feeds.SEX_CODES, ""}
        if kind == "register":
            continue
        assert row["event_type"] in feeds.EVENT_TYPES[kind]
        event_date = st.parse_date_strict(row["event_date"])
        assert WINDOW_START < event_date <= AS_OF
        if row["end_date"]:
            assert st.parse_date_strict(row["end_date"]) >= event_date
        for column, allowed in feeds.EXTRA_COLUMN_VALUES.get(kind, {}).items():
            assert row[column] in {*allowed, ""}, (column, row[column])
        if row["date_of_birth"]:
            assert st.parse_date(row["date_of_birth"]) is not None
        if row["postcode"] and not st.postcode_is_nfa(row["address_line"], row["postcode"]):
            assert st.postcode_clean(row["postcode"]) is not None, row["postcode"]
        if row["pnc_id"]:
            assert st.pnc_id_is_valid(row["pnc_id"]), row["pnc_id"]


def test_ids_are_unique_within_each_source(city: City) -> None:
    for table in city.feeds.values():
        ids = [row[0] for row in table.rows]
        assert len(ids) == len(set(ids))


def test_dates_come_in_the_formats_partners_send(city: City) -> None:
    dob_shapes: Counter[bool] = Counter()
    event_shapes: Counter[str] = Counter()
    for _name, kind, row in rows_of(city):
        if row["date_of_birth"]:
            dob_shapes["/" in row["date_of_birth"]] += 1
        if kind != "register":
            text = row["event_date"]
            event_shapes["T" if "T" in text else "/" if "/" in text else "-"] += 1
    assert dob_shapes[True] > 0
    assert dob_shapes[False] > 0
    assert set(event_shapes) == {"T", "/", "-"}
    ed = city.feeds["city_hospital_ed"].as_dicts()
    assert all("T" in row["event_date"] for row in ed)


# --- ground truth -------------------------------------------------------------------------------


def test_truth_covers_every_row_exactly(city: City) -> None:
    row_keys = [(name, row[0]) for name, table in city.feeds.items() for row in table.rows]
    assert len(row_keys) == city.row_count
    assert set(row_keys) == set(city.truth)
    assert len(city.truth) == city.row_count
    keys = {p.key for p in city.people}
    assert set(city.truth.values()) == keys  # and everyone is in at least one feed


def test_truth_agrees_with_the_true_events(city: City) -> None:
    seen = 0
    for person in city.people:
        assert city.person(person.key) is person
        for event in person.events:
            assert city.truth[(event.source, event.source_record_id)] == person.key
            seen += 1
        for source, record_id in person.register_records:
            assert city.truth[(source, record_id)] == person.key
            seen += 1
    assert seen == city.row_count


def test_rows_carry_their_true_event(city: City) -> None:
    events = {(e.source, e.source_record_id): e for p in city.people for e in p.events}
    for name, kind, row in rows_of(city):
        if kind == "register":
            continue
        event = events[(name, row["source_record_id"])]
        assert event.kind == kind
        assert event.event_type == row["event_type"]
        assert st.parse_date(row["event_date"]) == event.event_date


def test_identity_fields_relate_to_the_truth(city: City) -> None:
    for name, _kind, row in rows_of(city):
        person = city.person(city.truth[(name, row["source_record_id"])])
        if row["pnc_id"]:
            assert st.pnc_id_clean(row["pnc_id"]) == person.pnc_id
        nhs_number = st.nhs_number_clean(row["nhs_number"])
        if nhs_number:
            assert nhs_number == person.nhs_number
        dob = st.parse_date(row["date_of_birth"])
        if dob:
            assert dob in {
                person.date_of_birth,
                date(person.date_of_birth.year, 1, 1),
                st.dob_transposed(person.date_of_birth),
            }


def test_true_people_are_well_formed(city: City) -> None:
    nhs_numbers = [p.nhs_number for p in city.people]
    assert all(st.nhs_number_is_valid(n) for n in nhs_numbers)
    assert all(n.startswith("999") for n in nhs_numbers)  # never issued to a real person
    assert len(set(nhs_numbers)) == len(nhs_numbers)
    pncs = [p.pnc_id for p in city.people if p.pnc_id]
    assert all(st.pnc_id_clean(p) == p for p in pncs)
    assert len(set(pncs)) == len(pncs)
    for person in city.people:
        assert person.sex in {"M", "F"}
        assert person.addresses == tuple(sorted(person.addresses, key=lambda a: a.moved_in))
        for address in person.addresses:
            assert address.no_fixed_abode or st.postcode_clean(address.postcode) == address.postcode
    ages = [p.age_on(AS_OF) for p in city.people]
    adults = sum(18 <= a <= 65 for a in ages) / len(ages)
    assert 0.75 < adults < 0.95
    assert any(a < 18 for a in ages)


def test_pnc_ids_belong_to_people_with_criminal_justice_contact(city: City) -> None:
    for person in city.people:
        offender = any(e.domain == "criminal_justice" for e in person.events)
        assert (person.pnc_id is not None) == offender, person.key
    victims_only = [
        p
        for p in city.people
        if any(e.event_type == "victim_report" for e in p.events) and p.pnc_id is None
    ]
    assert victims_only


# --- realistic structure ------------------------------------------------------------------------


def test_a_realistic_share_meet_the_cohort_rule(city: City) -> None:
    cohort = true_cohort(city)
    share = len(cohort) / len(city.people)
    assert 0.08 < share < 0.30
    for key in cohort:
        assert city.person(key).age_on(AS_OF) >= 18
    domain_counts = Counter(len({e.domain for e in p.events if e.domain}) for p in city.people)
    assert domain_counts[0] > 0.2 * len(city.people)  # only ED, a register or a victim report
    assert domain_counts[1] + domain_counts[2] > 0.2 * len(city.people)


def test_cohort_rule_settings(city: City) -> None:
    assert true_cohort(city, min_domains=5) <= true_cohort(city, min_domains=3)
    assert true_cohort(city, window_months=24) >= true_cohort(city)
    assert true_cohort(city, min_age=0) >= true_cohort(city)


def test_twins_are_hard_negatives(city: City) -> None:
    twins = [p for p in city.people if p.twin_of]
    assert twins
    for twin in twins:
        assert twin.twin_of is not None  # narrows the type; the filter above guarantees it
        sibling = city.person(twin.twin_of)
        assert twin.family_name == sibling.family_name
        assert twin.date_of_birth == sibling.date_of_birth
        assert twin.addresses == sibling.addresses
        assert st.canonical_given_name(twin.given_name) != st.canonical_given_name(
            sibling.given_name
        )
        assert twin.nhs_number != sibling.nhs_number
        assert twin.key != sibling.key


def test_no_fixed_abode_rows_belong_to_people_without_an_address(city: City) -> None:
    nfa_rows = 0
    for name, kind, row in rows_of(city):
        if st.postcode_is_nfa(row["address_line"], row["postcode"]):
            nfa_rows += 1
            person = city.person(city.truth[(name, row["source_record_id"])])
            assert any(a.no_fixed_abode for a in person.addresses)
            if kind != "register":
                assert person.address_on(st.parse_date_strict(row["event_date"])).no_fixed_abode
    assert nfa_rows > 50


def test_some_rows_have_invalid_nhs_numbers(city: City) -> None:
    sent = [row["nhs_number"] for _n, _k, row in rows_of(city) if row["nhs_number"]]
    invalid = [n for n in sent if not st.nhs_number_is_valid(n)]
    assert 0.005 < len(invalid) / len(sent) < 0.05


def test_corruption_shows_in_the_rows(city: City) -> None:
    counts: Counter[str] = Counter()
    for name, _kind, row in rows_of(city):
        person = city.person(city.truth[(name, row["source_record_id"])])
        given = st.name_clean(row["given_name"])
        counts["rows"] += 1
        if given != st.name_clean(person.given_name):
            counts["given differs"] += 1
            if st.canonical_given_name(given) == st.canonical_given_name(person.given_name):
                counts["nickname"] += 1
        if given == st.name_clean(person.family_name):
            counts["swapped"] += 1
        if not row["date_of_birth"]:
            counts["no dob"] += 1
        elif st.dob_is_placeholder(st.parse_date(row["date_of_birth"])):
            counts["placeholder"] += 1
        if any(
            o.kind == "former" and st.name_clean(o.family_name) == st.name_clean(row["family_name"])
            for o in person.other_names
        ):
            counts["former name"] += 1
        if any(
            o.kind == "alias" and st.name_clean(o.family_name) == st.name_clean(row["family_name"])
            for o in person.other_names
        ):
            counts["alias"] += 1
    rows = counts["rows"]
    assert 0.03 < counts["given differs"] / rows < 0.30
    for kind in ("nickname", "swapped", "no dob", "placeholder", "former name", "alias"):
        assert counts[kind] > 0, kind


def test_people_move_and_partners_keep_old_addresses(city: City) -> None:
    movers = [p for p in city.people if len(p.addresses) > 1]
    assert 0.2 < len(movers) / len(city.people) < 0.6
    stale = 0
    for name, kind, row in rows_of(city):
        person = city.person(city.truth[(name, row["source_record_id"])])
        if kind == "register" or len(person.addresses) < 2 or not row["postcode"]:
            continue
        current = person.address_on(st.parse_date_strict(row["event_date"]))
        if not current.no_fixed_abode and st.postcode_clean(row["postcode"]) != current.postcode:
            stale += 1
    assert stale > 0


def test_some_people_appear_twice_in_one_source(city: City) -> None:
    registrations = defaultdict(set)
    for name, _kind, row in rows_of(city):
        key = city.truth[(name, row["source_record_id"])]
        registrations[(name, key)].add(
            (row["given_name"], row["family_name"], row["date_of_birth"], row["nhs_number"])
        )
    assert sum(len(r) > 1 for r in registrations.values()) > 10


def test_people_appear_in_several_sources(city: City) -> None:
    sources_per_person = defaultdict(set)
    for (source, _id), key in city.truth.items():
        sources_per_person[key].add(source)
    several = sum(len(s) >= 2 for s in sources_per_person.values())
    assert several > 0.3 * len(city.people)


def test_high_intensity_ed_users_exist(city: City) -> None:
    start = date(2024, 6, 30)
    heavy = 0
    for person in city.people:
        visits = [e.event_date for e in person.events if e.kind == "ed" and e.event_date > start]
        by_month = Counter((d.year, d.month) for d in visits)
        if len(visits) > 20 and max(by_month.values()) > 5:
            heavy += 1
    assert heavy > 0


def test_clean_city_copies_the_truth() -> None:
    clean = generate_city(300, seed=3, as_of=AS_OF, corruption=Corruption.none())
    for name, _kind, row in rows_of(clean):
        person = clean.person(clean.truth[(name, row["source_record_id"])])
        assert st.name_joined(row["given_name"]) == st.name_joined(person.given_name)
        # Presentation only: "O Brien" for O'Brien, or the first part of a double-barrelled name.
        assert st.name_joined(row["family_name"]) in {
            st.name_joined(person.family_name),
            st.name_tokens(person.family_name)[0],
        }
        assert st.parse_date_strict(row["date_of_birth"]) == person.date_of_birth
        assert (
            row["nhs_number"] == "" or st.nhs_number_clean(row["nhs_number"]) == person.nhs_number
        )


# --- files --------------------------------------------------------------------------------------


def test_write_feeds_round_trips(tmp_path: Path) -> None:
    small = generate_city(200, seed=21, as_of=AS_OF)
    written = write_feeds(small, tmp_path)
    assert [f.source for f in written] == [s.name for s in SOURCES]
    for feed_file in written:
        assert feed_file.path.exists()
        with feed_file.path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = tuple(next(reader))
            body = [tuple(r) for r in reader]
        assert header == feeds.columns_for(feed_file.kind)
        assert body == small.feeds[feed_file.source].rows
        assert feed_file.rows == len(body)
    with (tmp_path / "truth.csv").open(encoding="utf-8", newline="") as handle:
        truth_rows = list(csv.DictReader(handle))
    assert {
        (r["source_name"], r["source_record_id"]): r["true_person_key"] for r in truth_rows
    } == (small.truth)
