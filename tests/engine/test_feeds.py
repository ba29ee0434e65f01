"""The feed contract as data matches spec/feeds.md."""

import pytest

from onestory_engine import feeds


def test_kinds_and_event_types_are_the_contracts() -> None:
    assert feeds.FEED_KINDS == (
        "ed",
        "housing",
        "substance",
        "mental_health",
        "domestic_abuse",
        "police",
        "probation",
        "prison",
        "register",
    )
    assert set(feeds.EVENT_TYPES) == set(feeds.FEED_KINDS)
    assert feeds.EVENT_TYPES["register"] == ()
    assert feeds.EVENT_TYPES["police"] == ("arrest", "custody", "victim_report")
    assert "rough_sleeping_verified" in feeds.EVENT_TYPES["housing"]
    assert feeds.FEED_KINDS[:-1] == feeds.EVENT_KINDS


def test_domain_tokens_are_exact() -> None:
    assert feeds.DOMAINS == (
        "homelessness",
        "substance_misuse",
        "mental_health",
        "domestic_abuse",
        "criminal_justice",
    )
    assert (*feeds.DOMAINS, "health") == feeds.ACCESS_CATEGORIES


def test_every_event_type_has_a_default_mapping_to_a_domain_or_none() -> None:
    for kind in feeds.EVENT_KINDS:
        for event_type in feeds.EVENT_TYPES[kind]:
            domain = feeds.event_domain(kind, event_type)
            assert domain is None or domain in feeds.DOMAINS
    assert set(feeds.DEFAULT_DOMAIN_MAP.values()) <= {*feeds.DOMAINS, None}


@pytest.mark.parametrize(
    ("kind", "event_type", "role", "expected"),
    [
        ("ed", "attendance", None, None),
        ("housing", "homelessness_approach", None, "homelessness"),
        ("housing", "eviction", None, "homelessness"),
        ("substance", "treatment_start", None, "substance_misuse"),
        ("mental_health", "mha_detention", None, "mental_health"),
        ("domestic_abuse", "marac_referral", "victim", "domestic_abuse"),
        ("domestic_abuse", "idva_referral", None, "domestic_abuse"),  # missing means victim
        ("domestic_abuse", "idva_referral", "", "domestic_abuse"),
        ("domestic_abuse", "idva_referral", " Victim ", "domestic_abuse"),
        ("domestic_abuse", "marac_referral", "perpetrator", None),
        ("domestic_abuse", "marac_referral", "PERPETRATOR", None),
        ("domestic_abuse", "marac_referral", "witness", None),
        ("police", "arrest", None, "criminal_justice"),
        ("police", "custody", None, "criminal_justice"),
        ("police", "victim_report", None, None),
        ("probation", "breach", None, "criminal_justice"),
        ("prison", "release", None, "criminal_justice"),
        ("housing", "not_a_type", None, None),
        ("nonsense", "arrest", None, None),
    ],
)
def test_default_domain_mapping(
    kind: str, event_type: str, role: str | None, expected: str | None
) -> None:
    assert feeds.event_domain(kind, event_type, role) == expected


def test_role_is_ignored_outside_domestic_abuse() -> None:
    assert feeds.event_domain("police", "arrest", "victim") == "criminal_justice"


@pytest.mark.parametrize(
    ("kind", "event_type", "role", "expected"),
    [
        ("ed", "attendance", None, "health"),
        ("housing", "main_duty", None, "homelessness"),
        ("domestic_abuse", "marac_referral", None, "domestic_abuse"),
        # No domain, but still domestic abuse and police data for access purposes.
        ("domestic_abuse", "marac_referral", "perpetrator", "domestic_abuse"),
        ("police", "victim_report", None, "criminal_justice"),
        ("prison", "reception", None, "criminal_justice"),
    ],
)
def test_event_category(kind: str, event_type: str, role: str | None, expected: str) -> None:
    assert feeds.event_category(kind, event_type, role) == expected


def test_register_has_no_event_category() -> None:
    with pytest.raises(ValueError, match="no events"):
        feeds.event_category("register", "anything")


def test_mapping_can_be_overridden_by_a_plain_dict() -> None:
    mapping = dict(feeds.DEFAULT_DOMAIN_MAP)
    mapping[("police", "victim_report", None)] = "domestic_abuse"
    del mapping[("probation", "breach", None)]
    assert feeds.event_domain("police", "victim_report", mapping=mapping) == "domestic_abuse"
    assert feeds.event_domain("probation", "breach", mapping=mapping) is None
    assert feeds.event_category("police", "victim_report", mapping=mapping) == "domestic_abuse"
    # The default is untouched.
    assert feeds.event_domain("police", "victim_report") is None


def test_ed_reasons_signal_a_domain_only_when_configured() -> None:
    assert feeds.event_domain("ed", "attendance", reason_category="drugs") is None
    reasons = {"drugs": "substance_misuse", "self_harm": "mental_health"}
    assert (
        feeds.event_domain("ed", "attendance", reason_category="Drugs", ed_reason_domains=reasons)
        == "substance_misuse"
    )
    assert (
        feeds.event_domain("ed", "attendance", reason_category="injury", ed_reason_domains=reasons)
        is None
    )
    # Still health data, whatever it signals.
    assert feeds.event_category("ed", "attendance") == "health"


def test_columns_for_each_kind() -> None:
    assert feeds.columns_for("register") == feeds.IDENTITY_COLUMNS
    assert feeds.columns_for("ed") == (
        *feeds.IDENTITY_COLUMNS,
        "event_date",
        "event_type",
        "end_date",
        "arrival_mode",
        "reason_category",
    )
    assert feeds.columns_for("domestic_abuse")[-1] == "role"
    assert feeds.columns_for("police")[-1] == "offence_category"
    assert feeds.columns_for("substance")[-1] == "substance"
    assert feeds.columns_for("housing")[-3:] == feeds.EVENT_COLUMNS
    assert feeds.IDENTITY_COLUMNS[0] == "source_record_id"
    assert set(feeds.IDENTIFYING_COLUMNS) <= set(feeds.IDENTITY_COLUMNS)
    with pytest.raises(ValueError, match="not a feed kind"):
        feeds.columns_for("gp")


def test_fixed_extra_values() -> None:
    assert feeds.EXTRA_COLUMN_VALUES["ed"]["arrival_mode"] == ("ambulance", "walk_in", "police")
    assert "self_harm" in feeds.EXTRA_COLUMN_VALUES["ed"]["reason_category"]
    assert feeds.EXTRA_COLUMN_VALUES["domestic_abuse"]["role"] == ("victim", "perpetrator")
    for kind, columns in feeds.EXTRA_COLUMN_VALUES.items():
        assert set(columns) <= set(feeds.EXTRA_COLUMNS[kind])


def test_is_event_type() -> None:
    assert feeds.is_event_type("prison", "release")
    assert not feeds.is_event_type("prison", "arrest")
    assert not feeds.is_event_type("register", "")
    assert feeds.is_feed_kind("register")
    assert not feeds.is_feed_kind("ED")
