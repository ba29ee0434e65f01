"""The partner feed contract (``spec/feeds.md``) as data.

Everything that reads, writes or checks a partner feed takes its column names, event types
and domain mapping from here, so the contract lives in one place. The mapping from kind and
event type to SMD domain is plain configuration: callers may pass their own dict in the same
shape as :data:`DEFAULT_DOMAIN_MAP`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# The five SMD domain tokens, in the order reports show them.
HOMELESSNESS: Final = "homelessness"
SUBSTANCE_MISUSE: Final = "substance_misuse"
MENTAL_HEALTH: Final = "mental_health"
DOMESTIC_ABUSE: Final = "domestic_abuse"
CRIMINAL_JUSTICE: Final = "criminal_justice"
DOMAINS: Final[tuple[str, ...]] = (
    HOMELESSNESS,
    SUBSTANCE_MISUSE,
    MENTAL_HEALTH,
    DOMESTIC_ABUSE,
    CRIMINAL_JUSTICE,
)

# ED attendances are service use, not a domain, but still sensitive: their access category.
HEALTH: Final = "health"
ACCESS_CATEGORIES: Final[tuple[str, ...]] = (*DOMAINS, HEALTH)

FEED_KINDS: Final[tuple[str, ...]] = (
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
# Kinds whose rows are events (everything but a register, which is only a list of people).
EVENT_KINDS: Final[tuple[str, ...]] = tuple(k for k in FEED_KINDS if k != "register")

EVENT_TYPES: Final[dict[str, tuple[str, ...]]] = {
    "ed": ("attendance",),
    "housing": (
        "homelessness_approach",
        "prevention_duty",
        "relief_duty",
        "main_duty",
        "rough_sleeping_verified",
        "temporary_accommodation_start",
        "eviction",
    ),
    "substance": ("treatment_referral", "treatment_start", "treatment_exit"),
    "mental_health": ("referral", "crisis_contact", "admission", "discharge", "mha_detention"),
    "domestic_abuse": ("marac_referral", "idva_referral"),
    "police": ("arrest", "custody", "victim_report"),
    "probation": ("supervision_start", "supervision_end", "breach"),
    "prison": ("reception", "release"),
    "register": (),
}

# Identity columns, in the order the synthetic feeds write them.
IDENTITY_COLUMNS: Final[tuple[str, ...]] = (
    "source_record_id",
    "given_name",
    "middle_names",
    "family_name",
    "date_of_birth",
    "sex",
    "nhs_number",
    "pnc_id",
    "address_line",
    "postcode",
    "phone",
    "email",
)
# A row needs a value in at least one of these to say who it is about.
IDENTIFYING_COLUMNS: Final[tuple[str, ...]] = (
    "given_name",
    "family_name",
    "date_of_birth",
    "nhs_number",
    "pnc_id",
)
REQUIRED_COLUMNS: Final[tuple[str, ...]] = ("source_record_id",)
SEX_CODES: Final[tuple[str, ...]] = ("M", "F", "X", "U")

# Columns of every event kind; event_date and event_type are required, end_date optional.
EVENT_COLUMNS: Final[tuple[str, ...]] = ("event_date", "event_type", "end_date")
REQUIRED_EVENT_COLUMNS: Final[tuple[str, ...]] = ("event_date", "event_type")

EXTRA_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "ed": ("arrival_mode", "reason_category"),
    "housing": (),
    "substance": ("substance",),
    "mental_health": (),
    "domestic_abuse": ("role",),
    "police": ("offence_category",),
    "probation": (),
    "prison": (),
    "register": (),
}
# Extra columns whose values the contract fixes; the others are free text.
EXTRA_COLUMN_VALUES: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "ed": {
        "arrival_mode": ("ambulance", "walk_in", "police"),
        "reason_category": (
            "alcohol",
            "drugs",
            "self_harm",
            "mental_health",
            "assault",
            "injury",
            "other",
        ),
    },
    "domestic_abuse": {"role": ("victim", "perpetrator")},
}

# A domestic abuse row with no role is about a victim.
DEFAULT_ROLE: Final = "victim"

type DomainKey = tuple[str, str, str | None]
"""``(kind, event_type, role)``; role is ``None`` for every kind but ``domestic_abuse``."""


def _default_domain_map() -> dict[DomainKey, str | None]:
    kind_domain: dict[str, str | None] = {
        "ed": None,
        "housing": HOMELESSNESS,
        "substance": SUBSTANCE_MISUSE,
        "mental_health": MENTAL_HEALTH,
        "police": CRIMINAL_JUSTICE,
        "probation": CRIMINAL_JUSTICE,
        "prison": CRIMINAL_JUSTICE,
    }
    mapping: dict[DomainKey, str | None] = {}
    for kind, domain in kind_domain.items():
        for event_type in EVENT_TYPES[kind]:
            mapping[(kind, event_type, None)] = domain
    # Being a victim of crime is not contact with the criminal justice system as an offender.
    mapping[("police", "victim_report", None)] = None
    # Only victims count towards the domestic abuse domain.
    for event_type in EVENT_TYPES["domestic_abuse"]:
        mapping[("domestic_abuse", event_type, "victim")] = DOMESTIC_ABUSE
        mapping[("domestic_abuse", event_type, "perpetrator")] = None
    return mapping


DEFAULT_DOMAIN_MAP: Final[dict[DomainKey, str | None]] = _default_domain_map()
"""Default ``(kind, event_type, role) -> domain token or None`` as in feeds.md's table."""

# ED reasons that signal a domain: none by default; a partnership may configure e.g.
# {"drugs": "substance_misuse", "self_harm": "mental_health"}.
DEFAULT_ED_REASON_DOMAINS: Final[dict[str, str]] = {}

# The category each kind's data falls under when an event has no domain of its own
# (e.g. a police victim report is still police data).
KIND_CATEGORY: Final[dict[str, str]] = {
    "ed": HEALTH,
    "housing": HOMELESSNESS,
    "substance": SUBSTANCE_MISUSE,
    "mental_health": MENTAL_HEALTH,
    "domestic_abuse": DOMESTIC_ABUSE,
    "police": CRIMINAL_JUSTICE,
    "probation": CRIMINAL_JUSTICE,
    "prison": CRIMINAL_JUSTICE,
}


def is_feed_kind(kind: str) -> bool:
    """Whether ``kind`` is one of the contract's feed kinds (exact, lower case)."""
    return kind in EVENT_TYPES


def is_event_type(kind: str, event_type: str) -> bool:
    """Whether ``event_type`` is in the contract's list for ``kind``."""
    return event_type in EVENT_TYPES.get(kind, ())


def columns_for(kind: str) -> tuple[str, ...]:
    """All contract columns of a feed kind, identity columns first.

    Raises ``ValueError`` for a kind that does not exist.
    """
    if kind not in EVENT_TYPES:
        raise ValueError(f"{kind!r} is not a feed kind; expected one of {', '.join(FEED_KINDS)}")
    if kind == "register":
        return IDENTITY_COLUMNS
    return IDENTITY_COLUMNS + EVENT_COLUMNS + EXTRA_COLUMNS[kind]


def normalise_role(kind: str, role: str | None) -> str | None:
    """The role as the domain mapping keys it: lower case, and missing means victim for
    ``domestic_abuse``; ``None`` for every other kind (they have no role)."""
    if kind != "domestic_abuse":
        return None
    cleaned = (role or "").strip().lower()
    return cleaned or DEFAULT_ROLE


def event_domain(
    kind: str,
    event_type: str,
    role: str | None = None,
    *,
    reason_category: str | None = None,
    mapping: Mapping[DomainKey, str | None] | None = None,
    ed_reason_domains: Mapping[str, str] | None = None,
) -> str | None:
    """The SMD domain token an event signals, or ``None`` when it signals none.

    ``mapping`` overrides :data:`DEFAULT_DOMAIN_MAP` (same shape). For ``ed`` attendances,
    ``ed_reason_domains`` (default: none) may map a ``reason_category`` to a domain. Unknown
    kinds, event types and roles signal no domain.
    """
    table = DEFAULT_DOMAIN_MAP if mapping is None else mapping
    role_key = normalise_role(kind, role)
    domain = table.get((kind, event_type, role_key))
    if domain is None and role_key is not None:
        domain = table.get((kind, event_type, None))
    if domain is None and kind == "ed" and reason_category:
        reasons = DEFAULT_ED_REASON_DOMAINS if ed_reason_domains is None else ed_reason_domains
        domain = reasons.get(reason_category.strip().lower())
    return domain


def event_category(
    kind: str,
    event_type: str,
    role: str | None = None,
    *,
    mapping: Mapping[DomainKey, str | None] | None = None,
) -> str:
    """The access category of an event: ``health`` for ``ed``, else its domain token.

    An event that signals no domain (a police victim report, a domestic abuse perpetrator)
    falls under its kind's category, so it is never less protected than its neighbours.
    Raises ``ValueError`` for ``register`` (no events) and unknown kinds.
    """
    if kind not in KIND_CATEGORY:
        raise ValueError(f"{kind!r} feeds have no events, so no access category")
    if kind == "ed":
        return HEALTH
    return event_domain(kind, event_type, role, mapping=mapping) or KIND_CATEGORY[kind]
