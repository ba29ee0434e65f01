"""A synthetic city: fake people, the partner feeds that describe them, and the ground truth.

Everything here is invented and deterministic for a given seed. The true people carry the
facts (names, date of birth, NHS number, addresses over time, events); each partner source
holds its own, independently corrupted, registrations of them and sends one row per event
(or per person, for a register) in the format of ``spec/feeds.md``. ``City.truth`` says which
true person every row is about, so linkage and cohort results can be scored exactly.

Speed matters (benchmarks build a million rows): names, streets and postcodes are drawn once
into pools and then sampled with one ``random.Random``; no Faker call happens per person.
"""

from __future__ import annotations

import bisect
import csv
import gc
import itertools
import random
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Final, NamedTuple

from nicknames import NickNamer

from onestory_engine import feeds
from onestory_engine.standardise import (
    GIVEN_NAME_VARIANTS,
    NFA_PSEUDO_POSTCODE,
    canonical_given_name,
    dob_transposed,
    nhs_check_digit,
    pnc_check_letter,
)

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

# NHS numbers starting 999 are never issued (the NHS keeps them for testing), so no
# synthetic person can carry a real person's number. About 909,000 of them are valid; the cap
# keeps drawing unused ones quick.
_TEST_NHS_FIRST: Final = 999_000_000
_TEST_NHS_LAST: Final = 999_999_999
MAX_PERSONS: Final = 500_000

# ---------------------------------------------------------------------------------------------
# Public data types
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Corruption:
    """How untidy the partners' copies of a person are. Every rate is a probability.

    Per registration (a partner's record of a person, shared by all its rows): ``typo`` (per
    name), ``nickname``, ``swapped_names``, ``missing_dob``, ``placeholder_dob`` (1 January),
    ``transposed_dob`` (day and month swapped), ``missing_nhs_number`` (in a source that holds
    NHS numbers), ``invalid_nhs_number`` (a wrong check digit), ``missing_sex``, ``alias``
    (for a person who has one, the registration is under it), ``married_name`` (for a person
    whose family name changed, the registration keeps the old one), ``duplicate`` (per person
    and source, a second registration the partner never merged).

    Per row: ``moved_address`` (for a person who has moved, a stale earlier address) and
    ``nfa`` (while a person has no fixed abode, the row says so; otherwise it shows their last
    address).
    """

    typo: float = 0.06
    nickname: float = 0.12
    swapped_names: float = 0.02
    missing_dob: float = 0.04
    placeholder_dob: float = 0.02
    transposed_dob: float = 0.02
    missing_nhs_number: float = 0.10
    invalid_nhs_number: float = 0.02
    missing_sex: float = 0.03
    alias: float = 0.30
    married_name: float = 0.35
    duplicate: float = 0.04
    moved_address: float = 0.25
    nfa: float = 0.70

    @classmethod
    def none(cls) -> Corruption:
        """No corruption at all: every registration copies the truth (sources still only hold
        the fields they hold, and people still have no fixed abode)."""
        return cls(
            typo=0.0,
            nickname=0.0,
            swapped_names=0.0,
            missing_dob=0.0,
            placeholder_dob=0.0,
            transposed_dob=0.0,
            missing_nhs_number=0.0,
            invalid_nhs_number=0.0,
            missing_sex=0.0,
            alias=0.0,
            married_name=0.0,
            duplicate=0.0,
            moved_address=0.0,
            nfa=1.0,
        )


@dataclass(frozen=True, slots=True)
class Source:
    """A partner source: its feed kind, a suggested partner organisation, and how it keeps
    its records (which identity fields it holds, how it writes dates and ids)."""

    name: str
    kind: str
    organisation_name: str
    organisation_type: str
    id_prefix: str
    dob_format: str  # "iso" (YYYY-MM-DD) or "uk" (DD/MM/YYYY)
    event_date_format: str  # "iso", "uk" or "datetime"
    nhs_share: float
    pnc_share: float
    phone_share: float
    email_share: float
    middle_share: float
    upper_case: bool


SOURCES: Final[tuple[Source, ...]] = (
    Source("city_hospital_ed", "ed", "Trentside University Hospitals NHS Trust", "nhs_trust",
           "A", "iso", "datetime", 0.92, 0.0, 0.75, 0.25, 0.6, False),
    Source("council_housing", "housing", "Trentside City Council Housing Options",
           "council_housing", "HOC", "uk", "uk", 0.15, 0.0, 0.85, 0.5, 0.3, False),
    Source("recovery_service", "substance", "Trentside Recovery Network", "drug_alcohol",
           "RN", "iso", "iso", 0.6, 0.05, 0.8, 0.3, 0.2, False),
    Source("mh_trust", "mental_health", "Trentside Healthcare NHS Foundation Trust",
           "mental_health", "MH", "uk", "uk", 0.95, 0.0, 0.8, 0.2, 0.5, False),
    Source("idva_service", "domestic_abuse", "Safer Homes IDVA Service", "domestic_abuse",
           "IDVA", "uk", "uk", 0.25, 0.0, 0.9, 0.3, 0.2, False),
    Source("police_custody", "police", "Trentshire Police", "police",
           "CU", "iso", "iso", 0.0, 0.92, 0.5, 0.05, 0.4, True),
    Source("probation", "probation", "Probation Service, Trentside", "probation",
           "PRB", "uk", "uk", 0.1, 0.95, 0.7, 0.1, 0.3, True),
    Source("prison_releases", "prison", "HMP Trentside", "other",
           "HMP", "iso", "iso", 0.3, 0.97, 0.0, 0.0, 0.3, True),
    Source("navigator_register", "register", "Changing Futures Navigators", "charity",
           "NAV", "uk", "uk", 0.35, 0.1, 0.9, 0.3, 0.1, False),
    Source("street_outreach", "register", "Street Outreach Team", "charity",
           "SO", "uk", "uk", 0.1, 0.0, 0.5, 0.05, 0.0, False),
)  # fmt: skip
"""The synthetic city's partner sources, at least one per feed kind."""

_SOURCE_KIND: Final = {s.name: s.kind for s in SOURCES}
_JUSTICE_SOURCES: Final = frozenset(("police_custody", "probation", "prison_releases"))

ORGANISATION_TYPES: Final[tuple[str, ...]] = (
    "nhs_trust",
    "primary_care",
    "council_housing",
    "adult_social_care",
    "police",
    "probation",
    "drug_alcohol",
    "mental_health",
    "domestic_abuse",
    "charity",
    "other",
)


def source_by_name(name: str) -> Source:
    """The source called ``name``; ``KeyError`` if there is none."""
    for source in SOURCES:
        if source.name == name:
            return source
    raise KeyError(name)


@dataclass(frozen=True, slots=True)
class Address:
    """A place a person lived from ``moved_in``; ``no_fixed_abode`` marks a spell without
    one (then ``line`` and ``postcode`` are empty)."""

    line: str
    postcode: str
    moved_in: date
    no_fixed_abode: bool = False


@dataclass(frozen=True, slots=True)
class OtherName:
    """A name a person is also known by: ``alias`` or ``former`` (e.g. before marriage)."""

    given_name: str
    family_name: str
    kind: str


class TrueEvent(NamedTuple):
    """Something that really happened to a true person, and the feed row that reports it."""

    source: str
    source_record_id: str
    kind: str
    event_type: str
    event_date: date
    end_date: date | None = None
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def role(self) -> str | None:
        """The ``role`` column of a domestic abuse event (``None`` when not sent)."""
        return dict(self.extra).get("role") or None

    @property
    def domain(self) -> str | None:
        """The SMD domain this event signals under the default mapping."""
        return feeds.event_domain(self.kind, self.event_type, self.role)


@dataclass(frozen=True, slots=True)
class TruePerson:
    """A true person of the synthetic city (the ground truth, never a partner's copy)."""

    key: str
    given_name: str
    middle_names: str
    family_name: str
    other_names: tuple[OtherName, ...]
    date_of_birth: date
    sex: str
    nhs_number: str
    pnc_id: str | None
    addresses: tuple[Address, ...]
    phone: str
    email: str
    events: tuple[TrueEvent, ...]
    twin_of: str | None = None
    register_records: tuple[tuple[str, str], ...] = ()  # (source, source_record_id)

    def address_on(self, day: date) -> Address:
        """The address the person had on ``day`` (their earliest known one before that)."""
        starts = [a.moved_in for a in self.addresses]
        return self.addresses[max(0, bisect.bisect_right(starts, day) - 1)]

    def age_on(self, day: date) -> int:
        """Age in whole years on ``day``."""
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


@dataclass(frozen=True, slots=True)
class FeedTable:
    """The rows one source sends, as strings in the order of ``columns``."""

    source: Source
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]

    def __len__(self) -> int:
        return len(self.rows)

    def as_dicts(self) -> Iterator[dict[str, str]]:
        """Each row as a column -> value dict."""
        for row in self.rows:
            yield dict(zip(self.columns, row, strict=True))


@dataclass(frozen=True, slots=True)
class City:
    """A generated city: the true people, every source's feed, and which true person each
    row is about (``truth[(source, source_record_id)] -> key``)."""

    seed: int
    as_of: date
    corruption: Corruption
    people: tuple[TruePerson, ...]
    feeds: dict[str, FeedTable]
    truth: dict[tuple[str, str], str]
    sources: tuple[Source, ...] = field(default=SOURCES)

    def person(self, key: str) -> TruePerson:
        """The true person with ``key``."""
        return self.people[int(key[1:]) - 1]

    @property
    def row_count(self) -> int:
        """Rows across all feeds."""
        return sum(len(t) for t in self.feeds.values())


@dataclass(frozen=True, slots=True)
class FeedFile:
    """A feed written to disk, with what an import needs to know about it."""

    path: Path
    source: str
    kind: str
    organisation_name: str
    organisation_type: str
    rows: int


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------


def generate_city(
    n_persons: int,
    *,
    seed: int,
    as_of: date,
    corruption: Corruption | None = None,
) -> City:
    """Generate ``n_persons`` true people and the partner feeds describing them.

    Events fall in the 24 months up to and including ``as_of``. The same arguments always
    give the same city. NHS numbers come from the never-issued 999 test range, which limits a
    city to :data:`MAX_PERSONS` people.
    """
    if n_persons < 1:
        raise ValueError("a city needs at least one person")
    if n_persons > MAX_PERSONS:
        raise ValueError(f"at most {MAX_PERSONS:,} people: there are not enough test NHS numbers")
    return _Generator(seed=seed, as_of=as_of, corruption=corruption or Corruption()).run(n_persons)


def write_feeds(city: City, directory: Path) -> list[FeedFile]:
    """Write one UTF-8 CSV per source (``<source>.csv``, header row, contract columns) and
    the ground truth to ``truth.csv`` (``source_name, source_record_id, true_person_key``),
    which only tests and benchmarks should read."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[FeedFile] = []
    for source in city.sources:
        table = city.feeds[source.name]
        path = directory / f"{source.name}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(table.columns)
            writer.writerows(table.rows)
        written.append(
            FeedFile(
                path=path,
                source=source.name,
                kind=source.kind,
                organisation_name=source.organisation_name,
                organisation_type=source.organisation_type,
                rows=len(table),
            )
        )
    with (directory / "truth.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("source_name", "source_record_id", "true_person_key"))
        writer.writerows((s, r, k) for (s, r), k in city.truth.items())
    return written


def true_cohort(
    city: City,
    *,
    as_of: date | None = None,
    min_domains: int = 3,
    window_months: int = 12,
    min_age: int = 18,
) -> set[str]:
    """Keys of the true people who meet the SMD cohort rule of ``spec/feeds.md`` on their
    true events: ``min_domains`` of the five domains from events in ``(as_of - window,
    as_of]`` and aged ``min_age`` or over on ``as_of`` (default: the city's as-of date)."""
    day = as_of or city.as_of
    start = _add_months(day, -window_months)
    cohort: set[str] = set()
    for person in city.people:
        if person.age_on(day) < min_age:
            continue
        domains = {e.domain for e in person.events if start < e.event_date <= day and e.domain}
        if len(domains) >= min_domains:
            cohort.add(person.key)
    return cohort


# ---------------------------------------------------------------------------------------------
# Pools drawn once
# ---------------------------------------------------------------------------------------------

# Names found in Nottingham that Faker's en_GB lists (from ONS tables) lack, so the feeds
# carry accents, apostrophes and names from several traditions.
_EXTRA_GIVEN_MALE: Final = (
    "Mohammed", "Muhammad", "Ali", "Omar", "Ravi", "Arjun", "Kofi", "Chidi", "Oluwaseun",
    "Tomasz", "Piotr", "Łukasz", "Andrei", "Seán", "Eoin", "Rhys", "Dafydd", "José", "Zoltán",
)  # fmt: skip
_EXTRA_GIVEN_FEMALE: Final = (
    "Fatima", "Aisha", "Ayesha", "Priya", "Simran", "Amara", "Chioma", "Agnieszka", "Ioana",
    "Zoë", "Siân", "Niamh", "Aoife", "Renée", "Chloé", "Maryam", "Precious", "Abena",
)  # fmt: skip
_EXTRA_FAMILY: Final = (
    "O'Brien", "O'Connor", "O'Neill", "McDonald", "MacLeod", "D'Souza", "Khan", "Ahmed",
    "Hussain", "Patel", "Begum", "Singh", "Kaur", "Kowalski", "Nowak", "Wiśniewski", "Okafor",
    "Mensah", "Nguyen", "Popescu", "Ó Súilleabháin", "Gómez", "Müller", "Adeyemi",
)  # fmt: skip
_STREET_SUFFIXES: Final = (
    "Road", "Street", "Lane", "Avenue", "Close", "Drive", "Crescent", "Way", "Grove",
    "Gardens", "Place", "Court", "Terrace", "Walk", "Rise", "View", "Road", "Street",
)  # fmt: skip
_STREET_ABBREVIATIONS: Final = {
    "Road": "Rd", "Street": "St", "Avenue": "Ave", "Lane": "Ln", "Close": "Cl",
    "Drive": "Dr", "Crescent": "Cres", "Gardens": "Gdns", "Terrace": "Terr", "Place": "Pl",
}  # fmt: skip
# Nottingham and around: NG1-NG11 city, NG12-NG17 suburbs and towns.
_NG_DISTRICTS: Final = tuple(f"NG{n}" for n in range(1, 18))
_INWARD_LETTERS: Final = "ABDEFGHJLNPQRSTUWXYZ"
_NFA_LINES: Final = (
    "No fixed abode", "NFA", "N.F.A.", "no fixed address", "Of no fixed abode", "NO FIXED ABODE",
)  # fmt: skip
_SUBSTANCES: Final = (
    "alcohol", "opiates", "crack", "cocaine", "cannabis", "benzodiazepines", "alcohol",
    "opiates",
)  # fmt: skip
_OFFENCES: Final = (
    "violence", "theft", "drugs", "public_order", "criminal_damage", "burglary", "robbery",
    "breach", "other",
)  # fmt: skip
_ED_REASONS: Final = feeds.EXTRA_COLUMN_VALUES["ed"]["reason_category"]
_DOMAIN_WEIGHTS_MALE: Final = (1.0, 1.0, 1.0, 0.45, 1.0)  # in feeds.DOMAINS order
_DOMAIN_WEIGHTS_FEMALE: Final = (1.0, 0.9, 1.1, 1.4, 0.6)
# Share of people by number of SMD domains (0..5) among people known to services.
_DOMAIN_COUNT_CUM: Final = tuple(itertools.accumulate((0.40, 0.24, 0.15, 0.11, 0.07, 0.03)))


@dataclass(frozen=True, slots=True)
class _Pools:
    male: tuple[str, ...]
    male_cum: tuple[float, ...]
    female: tuple[str, ...]
    female_cum: tuple[float, ...]
    family: tuple[str, ...]
    family_cum: tuple[float, ...]
    streets: tuple[tuple[str, str, str], ...]  # (street name, suffix, postcode)


def _cumulative(weights: Sequence[float]) -> tuple[float, ...]:
    return tuple(itertools.accumulate(weights))


def _ranked_names(names: Sequence[str], extra: Sequence[str]) -> tuple[list[str], list[float]]:
    # Faker's lists come most common first; weight by rank so Davids outnumber Geoffreys.
    pool = list(dict.fromkeys(names))
    weights = [1.0 / (rank + 8) for rank in range(len(pool))]
    share = sum(weights) * 0.08 / len(extra)  # the extra names make up about 8%
    return pool + list(extra), weights + [share] * len(extra)


@lru_cache(maxsize=8)
def _pools(seed: int) -> _Pools:
    from faker.providers.person.en_GB import Provider as PersonProvider

    rng = random.Random(f"pools-{seed}")
    male, male_w = _ranked_names(PersonProvider.first_names_male, _EXTRA_GIVEN_MALE)
    female, female_w = _ranked_names(PersonProvider.first_names_female, _EXTRA_GIVEN_FEMALE)
    last: dict[str, float] = dict(PersonProvider.last_names)
    family = list(last) + list(_EXTRA_FAMILY)
    family_w = list(last.values())
    family_w += [sum(family_w) * 0.10 / len(_EXTRA_FAMILY)] * len(_EXTRA_FAMILY)
    first_parts = [*PersonProvider.last_names, *PersonProvider.first_names_male[:60]]
    streets: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    while len(streets) < 2500:
        name, suffix = rng.choice(first_parts), rng.choice(_STREET_SUFFIXES)
        if (name, suffix) in seen:
            continue
        seen.add((name, suffix))
        inward = f"{rng.randint(1, 9)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"
        streets.append((name, suffix, f"{rng.choice(_NG_DISTRICTS)} {inward}"))
    return _Pools(
        male=tuple(male),
        male_cum=_cumulative(male_w),
        female=tuple(female),
        female_cum=_cumulative(female_w),
        family=tuple(family),
        family_cum=_cumulative(family_w),
        streets=tuple(streets),
    )


@lru_cache(maxsize=4096)
def _nicknames_for(given: str) -> tuple[str, ...]:
    """Nicknames a partner might write for ``given`` that still fold back to it."""
    canonical = canonical_given_name(given)
    options = {canonical, *GIVEN_NAME_VARIANTS.get(canonical, ())}
    options.update(_nicknamer().nicknames_of(given.lower()))
    own = given.lower()
    return tuple(
        sorted(
            n.title()
            for n in options
            if n != own and n.isalpha() and len(n) > 1 and canonical_given_name(n) == canonical
        )
    )


@lru_cache(maxsize=1)
def _nicknamer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=8)
def _ed_reason_weights(substance: bool, mental_health: bool, violence: bool) -> tuple[float, ...]:
    """Cumulative weights of ED reasons (in contract order), leaning towards the reasons that
    go with a person's difficulties."""
    weights = [0.08, 0.04, 0.04, 0.05, 0.06, 0.35, 0.30]
    if substance:
        weights[0] += 0.25
        weights[1] += 0.2
    if mental_health:
        weights[2] += 0.15
        weights[3] += 0.2
    if violence:
        weights[4] += 0.15
    return _cumulative(weights)


def _strip_accents(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.replace("Ł", "L").replace("ł", "l"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _add_months(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------


class _FastRandom(random.Random):
    """``random.Random`` with cheaper integer draws: the stdlib's exact rejection sampling
    costs more than the rest of a row, and a bias of one part in 2**53 does not matter here."""

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice[T](self, seq: SupportsLenAndGetItem[T]) -> T:
        return seq[int(self.random() * len(seq))]

    def weighted[T](self, seq: Sequence[T], cum_weights: Sequence[float]) -> T:
        """One item of ``seq`` drawn with the given cumulative weights."""
        return seq[bisect.bisect(cum_weights, self.random() * cum_weights[-1])]


@dataclass(slots=True)
class _Registration:
    """One partner's copy of a person's identity (shared by the rows it sends)."""

    given: str
    middle: str
    family: str
    dob: str
    sex: str
    nhs: str
    pnc: str
    phone: str
    email: str
    # How this partner wrote each of the person's addresses, by index in their history.
    addresses: dict[int, tuple[str, str]] = field(default_factory=dict)


@dataclass(slots=True)
class _Draft:
    """A true person while their events are being drawn."""

    key: str
    sex: str
    given: str
    middle: str
    family: str
    other_names: list[OtherName]
    dob: date
    nhs: str
    addresses: tuple[Address, ...]
    phone: str
    email: str
    domains: list[str]
    twin_of: str | None = None
    pnc: str | None = None
    # (source, date, event_type, end_date, extra)
    events: list[tuple[str, date, str, date | None, tuple[tuple[str, str], ...]]] = field(
        default_factory=list
    )
    registers: list[str] = field(default_factory=list)


class _Generator:
    """Holds the random stream and counters while a city is drawn."""

    def __init__(self, *, seed: int, as_of: date, corruption: Corruption) -> None:
        self.seed = seed
        self.rng = _FastRandom(seed)
        self.as_of = as_of
        self.c = corruption
        self.pools = _pools(seed)
        self.window_start = _add_months(as_of, -24)  # events fall in (window_start, as_of]
        self.window_days = (as_of - self.window_start).days
        # days[i] is the date i days before as_of, for the whole history we draw from.
        self.days = [as_of - timedelta(days=i) for i in range(self.window_days + 800)]
        self.nhs_seen: set[str] = set()
        self.pnc_seen: set[str] = set()

    # -- people -------------------------------------------------------------------------------

    def run(self, n_persons: int) -> City:
        # Millions of small objects and no reference cycles: the cyclic collector would only
        # rescan them over and over.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._run(n_persons)
        finally:
            if gc_was_enabled:
                gc.enable()

    def _run(self, n_persons: int) -> City:
        drafts: list[_Draft] = []
        i = 0
        while i < n_persons:
            twins = i + 1 < n_persons and self.rng.random() < 0.01
            first = self.person(i)
            drafts.append(first)
            if twins:
                drafts.append(self.twin_of(first, i + 1))
                i += 1
            i += 1
        for draft in drafts:
            self.draw_events(draft)
        return self.build(drafts)

    def given(self, sex: str) -> str:
        p = self.pools
        if sex == "M":
            return self.rng.weighted(p.male, p.male_cum)
        return self.rng.weighted(p.female, p.female_cum)

    def family(self) -> str:
        p = self.pools
        name = self.rng.weighted(p.family, p.family_cum)
        if self.rng.random() < 0.02:
            other = self.rng.weighted(p.family, p.family_cum)
            if other != name:
                name = f"{name}-{other}"
        return name

    def nhs_number(self, start: int | None = None) -> str:
        """An unused valid NHS number from the test range: random, or the next one after
        ``start`` (twins registered one after the other)."""
        rng = self.rng
        candidate = start
        while True:
            if candidate is None:
                candidate = rng.randint(_TEST_NHS_FIRST, _TEST_NHS_LAST)
            else:
                candidate = candidate + 1 if candidate < _TEST_NHS_LAST else _TEST_NHS_FIRST
            nine = str(candidate)
            check = nhs_check_digit(nine)
            if check is not None and (number := f"{nine}{check}") not in self.nhs_seen:
                self.nhs_seen.add(number)
                return number
            if start is None:
                candidate = None

    def pnc_id(self, dob: date) -> str:
        rng = self.rng
        while True:
            first_year = min(self.as_of.year, dob.year + rng.randint(14, 40))
            yy = first_year % 100
            serial = rng.randint(1, 999_999)
            pnc = f"{yy:02d}/{serial:07d}{pnc_check_letter(yy, serial)}"
            if pnc not in self.pnc_seen:
                self.pnc_seen.add(pnc)
                return pnc

    def date_of_birth(self) -> date:
        rng = self.rng
        u = rng.random()
        if u < 0.07:
            age = rng.randint(12, 17)
        elif u < 0.93:
            age = round(rng.triangular(18, 66, 32))
            age = min(age, 65)
        else:
            age = rng.randint(66, 90)
        return self.as_of - timedelta(days=round(age * 365.25) + rng.randint(0, 364))

    def address(self, moved_in: date) -> Address:
        rng = self.rng
        street, suffix, postcode = rng.choice(self.pools.streets)
        line = f"{rng.randint(1, 199)} {street} {suffix}"
        if rng.random() < 0.15:
            line = f"Flat {rng.randint(1, 24)}, {line}"
        return Address(line=line, postcode=postcode, moved_in=moved_in)

    def addresses(self, dob: date, homeless: bool) -> tuple[Address, ...]:
        rng = self.rng
        first_in = max(dob, self.as_of - timedelta(days=rng.randint(800, 8000)))
        history = [self.address(first_in)]
        moves = 0
        if rng.random() < 0.35:
            moves = rng.choice((1, 1, 1, 2, 2, 3))
        if homeless:
            moves = max(moves, 1)
        for day in sorted(rng.sample(range(1, self.window_days), moves), reverse=True):
            history.append(self.address(self.days[day]))
        if homeless and rng.random() < 0.55:
            # The latest spell is one without an address: currently of no fixed abode.
            history[-1] = Address("", "", history[-1].moved_in, no_fixed_abode=True)
        return tuple(history)

    def person(self, index: int) -> _Draft:
        rng = self.rng
        sex = "M" if rng.random() < 0.52 else "F"
        dob = self.date_of_birth()
        age = (self.as_of - dob).days // 365
        given = self.given(sex)
        middle = ""
        if rng.random() < 0.6:
            middle = self.given(sex)
            if rng.random() < 0.1:
                middle = f"{middle} {self.given(sex)}"
        family = self.family()
        other: list[OtherName] = []
        if sex == "F" and age >= 22 and rng.random() < 0.25:
            other.append(OtherName(given, self.family(), "former"))
        domains = self.domains(sex, age)
        alias_rate = 0.15 if feeds.CRIMINAL_JUSTICE in domains else 0.03
        if rng.random() < alias_rate:
            alias_given = given if rng.random() < 0.4 else self.given(sex)
            other.append(OtherName(alias_given, self.family(), "alias"))
        email = ""
        if rng.random() < 0.55:
            local = f"{given}.{family}".lower().replace("'", "").replace(" ", "")
            local = _strip_accents(local)
            email = f"{local}{rng.randint(1, 99)}@example.{rng.choice(('com', 'org', 'net'))}"
        phone = ""
        if rng.random() < 0.85:
            phone = f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}"
        return _Draft(
            key=f"T{index + 1:06d}",
            sex=sex,
            given=given,
            middle=middle,
            family=family,
            other_names=other,
            dob=dob,
            nhs=self.nhs_number(),
            addresses=self.addresses(dob, feeds.HOMELESSNESS in domains),
            phone=phone,
            email=email,
            domains=domains,
        )

    def twin_of(self, first: _Draft, index: int) -> _Draft:
        """A twin: same family name, date of birth and home, a different given name, the
        next NHS number: the hard case a linker must keep apart."""
        rng = self.rng
        sex = first.sex if rng.random() < 0.5 else ("F" if first.sex == "M" else "M")
        given = self.given(sex)
        while canonical_given_name(given) == canonical_given_name(first.given):
            given = self.given(sex)
        age = (self.as_of - first.dob).days // 365
        return _Draft(
            key=f"T{index + 1:06d}",
            sex=sex,
            given=given,
            middle=self.given(sex) if rng.random() < 0.5 else "",
            family=first.family,
            other_names=[],
            dob=first.dob,
            nhs=self.nhs_number(start=int(first.nhs[:9])),
            addresses=first.addresses,
            phone=first.phone if rng.random() < 0.3 else "",
            email="",
            domains=self.domains(sex, age),
            twin_of=first.key,
        )

    def domains(self, sex: str, age: int) -> list[str]:
        rng = self.rng
        count = rng.weighted(range(6), _DOMAIN_COUNT_CUM)
        weights = list(_DOMAIN_WEIGHTS_MALE if sex == "M" else _DOMAIN_WEIGHTS_FEMALE)
        pool = list(feeds.DOMAINS)
        if age < 18:
            # Children here meet services for their own mental health, drug use or abuse at
            # home; probation, prison and adult homelessness duties are for adults.
            count = min(count, 1)
            for domain in (feeds.HOMELESSNESS, feeds.CRIMINAL_JUSTICE):
                weights.pop(pool.index(domain))
                pool.remove(domain)
        elif age > 70:
            count = min(count, 1)
        chosen: list[str] = []
        for _ in range(count):
            pick = rng.weighted(range(len(pool)), _cumulative(weights))
            chosen.append(pool.pop(pick))
            weights.pop(pick)
        return chosen

    # -- events -------------------------------------------------------------------------------

    def day_between(self, newest: int, oldest: int) -> date:
        """A date between ``newest`` and ``oldest`` days before as_of (inclusive)."""
        return self.days[self.rng.randint(newest, oldest)]

    def add(
        self,
        draft: _Draft,
        source: str,
        day: date,
        event_type: str,
        end: date | None = None,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> None:
        if self.window_start < day <= self.as_of:
            if end is not None and end > self.as_of:
                end = None
            draft.events.append((source, day, event_type, end, extra))

    def draw_events(self, draft: _Draft) -> None:
        rng = self.rng
        smd = len(draft.domains) >= 3
        last_year = (0, 364)
        year_before = (366, self.window_days - 1)
        drawers = {
            feeds.HOMELESSNESS: self.events_homelessness,
            feeds.SUBSTANCE_MISUSE: self.events_substance_misuse,
            feeds.MENTAL_HEALTH: self.events_mental_health,
            feeds.DOMESTIC_ABUSE: self.events_domestic_abuse,
            feeds.CRIMINAL_JUSTICE: self.events_criminal_justice,
        }
        for domain in draft.domains:
            # Most people's difficulties are current; some were only in the year before.
            recent = rng.random() < (0.88 if smd else 0.6)
            newest, oldest = last_year if recent else year_before
            drawers[domain](draft, newest, oldest)
        self.events_ed(draft)
        if rng.random() < (0.25 if feeds.DOMESTIC_ABUSE in draft.domains else 0.04):
            self.add(
                draft, "police_custody", self.day_between(0, self.window_days - 1), "victim_report"
            )
        if feeds.CRIMINAL_JUSTICE in draft.domains and draft.sex == "M" and rng.random() < 0.15:
            role = ("role", "perpetrator")
            self.add(
                draft, "idva_service", self.day_between(0, 700), "marac_referral", None, (role,)
            )
        if rng.random() < (0.5 if smd else 0.02):
            draft.registers.append("navigator_register")
        if feeds.HOMELESSNESS in draft.domains and rng.random() < 0.35:
            draft.registers.append("street_outreach")
        if not draft.events and not draft.registers:
            # Everyone is known to someone: an ED visit, or a place on a register.
            if rng.random() < 0.85:
                self.ed_attendance(draft, self.day_between(0, self.window_days - 1))
            else:
                draft.registers.append("navigator_register")
        # A PNC record is made on arrest, so victims of crime do not have one.
        if any(
            e[0] != "police_custody" or e[2] != "victim_report"
            for e in draft.events
            if e[0] in _JUSTICE_SOURCES
        ):
            draft.pnc = self.pnc_id(draft.dob)

    def events_homelessness(self, draft: _Draft, newest: int, oldest: int) -> None:
        rng = self.rng
        src = "council_housing"
        start = self.day_between(newest, oldest)
        self.add(draft, src, start, "homelessness_approach")
        if rng.random() < 0.75:
            duty = "prevention_duty" if rng.random() < 0.5 else "relief_duty"
            self.add(draft, src, start + timedelta(days=rng.randint(0, 14)), duty)
        if rng.random() < 0.3:
            self.add(draft, src, start + timedelta(days=rng.randint(30, 90)), "main_duty")
        if rng.random() < 0.35:
            ta = start + timedelta(days=rng.randint(1, 40))
            end = ta + timedelta(days=rng.randint(14, 240)) if rng.random() < 0.6 else None
            self.add(draft, src, ta, "temporary_accommodation_start", end)
        if draft.addresses[-1].no_fixed_abode or rng.random() < 0.2:
            for _ in range(rng.randint(1, 3)):
                self.add(draft, src, self.day_between(newest, oldest), "rough_sleeping_verified")
        if rng.random() < 0.1:
            self.add(draft, src, start - timedelta(days=rng.randint(0, 30)), "eviction")

    def events_substance_misuse(self, draft: _Draft, newest: int, oldest: int) -> None:
        rng = self.rng
        src = "recovery_service"
        substance = rng.choice(_SUBSTANCES) if rng.random() < 0.8 else ""
        extra = (("substance", substance),)
        referral = self.day_between(newest, oldest)
        self.add(draft, src, referral, "treatment_referral", None, extra)
        if rng.random() < 0.8:
            start = referral + timedelta(days=rng.randint(7, 42))
            self.add(draft, src, start, "treatment_start", None, extra)
            if rng.random() < 0.4:
                exit_day = start + timedelta(days=rng.randint(60, 300))
                self.add(draft, src, exit_day, "treatment_exit", None, extra)

    def events_mental_health(self, draft: _Draft, newest: int, oldest: int) -> None:
        rng = self.rng
        src = "mh_trust"
        self.add(draft, src, self.day_between(newest, oldest), "referral")
        for _ in range(rng.choice((0, 1, 1, 2, 3, 5))):
            self.add(draft, src, self.day_between(newest, oldest), "crisis_contact")
        if rng.random() < 0.2:
            admitted = self.day_between(newest, oldest)
            discharged = admitted + timedelta(days=rng.randint(5, 70))
            self.add(draft, src, admitted, "admission", discharged)
            if rng.random() < 0.35:
                self.add(draft, src, admitted, "mha_detention")
            self.add(draft, src, discharged, "discharge")

    def events_domestic_abuse(self, draft: _Draft, newest: int, oldest: int) -> None:
        rng = self.rng
        src = "idva_service"
        # A missing role means victim: some services leave it blank.
        extra = (("role", "victim" if rng.random() < 0.7 else ""),)
        sent = False
        if rng.random() < 0.55:
            self.add(draft, src, self.day_between(newest, oldest), "marac_referral", None, extra)
            sent = True
        if not sent or rng.random() < 0.6:
            for _ in range(rng.choice((1, 1, 2))):
                day = self.day_between(newest, oldest)
                self.add(draft, src, day, "idva_referral", None, extra)

    def events_criminal_justice(self, draft: _Draft, newest: int, oldest: int) -> None:
        rng = self.rng
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4, 6))):
            day = self.day_between(newest, oldest)
            extra = (("offence_category", rng.choice(_OFFENCES) if rng.random() < 0.85 else ""),)
            self.add(draft, "police_custody", day, "arrest", None, extra)
            if rng.random() < 0.8:
                self.add(draft, "police_custody", day, "custody", None, extra)
        if rng.random() < 0.45:
            start = self.day_between(newest, oldest)
            self.add(draft, "probation", start, "supervision_start")
            if rng.random() < 0.25:
                self.add(draft, "probation", start + timedelta(days=rng.randint(20, 200)), "breach")
            if rng.random() < 0.5:
                end = start + timedelta(days=rng.randint(180, 540))
                self.add(draft, "probation", end, "supervision_end")
        if rng.random() < 0.2:
            received = self.day_between(newest, oldest)
            released = received + timedelta(days=rng.randint(14, 300))
            self.add(draft, "prison_releases", received, "reception", released)
            self.add(draft, "prison_releases", released, "release")

    def ed_attendance(self, draft: _Draft, day: date) -> None:
        rng = self.rng
        mode_roll = rng.random()
        mode = "walk_in" if mode_roll < 0.6 else ("ambulance" if mode_roll < 0.92 else "police")
        domains = draft.domains
        cum = _ed_reason_weights(
            feeds.SUBSTANCE_MISUSE in domains,
            feeds.MENTAL_HEALTH in domains,
            feeds.DOMESTIC_ABUSE in domains or feeds.CRIMINAL_JUSTICE in domains,
        )
        reason = rng.weighted(_ED_REASONS, cum)
        extra = (("arrival_mode", mode), ("reason_category", reason))
        self.add(draft, "city_hospital_ed", day, "attendance", None, extra)

    def events_ed(self, draft: _Draft) -> None:
        rng = self.rng
        n_domains = len(draft.domains)
        if rng.random() < (0.001 + 0.01 * n_domains):
            # A high-intensity user: a month with 6+ visits and 21+ in the last 12 months.
            burst_month = _add_months(self.as_of.replace(day=1), -rng.randint(1, 10))
            for _ in range(rng.randint(6, 10)):
                self.ed_attendance(draft, burst_month + timedelta(days=rng.randint(0, 27)))
            for _ in range(rng.randint(16, 45)):
                self.ed_attendance(draft, self.day_between(0, 364))
            return
        chance = (0.35, 0.6, 0.75, 0.85, 0.9, 0.95)[n_domains]
        if rng.random() < chance:
            visits = rng.choice((1, 1, 1, 2, 2, 3, 4)) + (rng.randint(0, 4) if n_domains else 0)
            for _ in range(visits):
                self.ed_attendance(draft, self.day_between(0, self.window_days - 1))

    # -- rows ---------------------------------------------------------------------------------

    def build(self, drafts: list[_Draft]) -> City:
        rng = self.rng
        sources = {s.name: s for s in SOURCES}
        # (sort key, date, draft index, registration number, event index) per source; the sort
        # key puts rows in date order (partners export that way) without comparing dates.
        pending: dict[str, list[tuple[int, date, int, int, int]]] = {s.name: [] for s in SOURCES}
        registrations: dict[tuple[int, str], list[_Registration]] = {}
        order = 0
        for d_index, draft in enumerate(drafts):
            used = sorted({e[0] for e in draft.events} | set(draft.registers))
            for name in used:
                regs = [self.registration(draft, sources[name])]
                if rng.random() < self.c.duplicate:
                    regs.append(self.registration(draft, sources[name]))
                registrations[(d_index, name)] = regs
            for e_index, event in enumerate(draft.events):
                name, day = event[0], event[1]
                n_regs = len(registrations[(d_index, name)])
                which = 0 if n_regs == 1 or rng.random() < 0.65 else 1
                pending[name].append((day.toordinal() << 32 | order, day, d_index, which, e_index))
                order += 1
            for name in draft.registers:
                regs_here = registrations[(d_index, name)]
                for reg_number in range(len(regs_here)):
                    day = self.day_between(0, self.window_days - 1)
                    sort_key = day.toordinal() << 32 | order
                    pending[name].append((sort_key, day, d_index, reg_number, -1))
                    order += 1

        truth: dict[tuple[str, str], str] = {}
        tables: dict[str, FeedTable] = {}
        event_ids: list[dict[int, str]] = [{} for _ in drafts]
        register_ids: list[list[tuple[str, str]]] = [[] for _ in drafts]
        for source in SOURCES:
            items = pending[source.name]
            items.sort(key=itemgetter(0))
            columns = feeds.columns_for(source.kind)
            extra_columns = feeds.EXTRA_COLUMNS[source.kind]
            rows: list[tuple[str, ...]] = []
            next_id = rng.randint(10_000, 90_000)
            for _key, day, d_index, reg_index, e_index in items:
                draft = drafts[d_index]
                next_id += rng.randint(1, 4)
                record_id = self.record_id(source, next_id, day)
                truth[(source.name, record_id)] = draft.key
                reg = registrations[(d_index, source.name)][reg_index]
                line, postcode = self.row_address(draft, source, reg, day)
                identity = (
                    record_id, reg.given, reg.middle, reg.family, reg.dob, reg.sex, reg.nhs,
                    reg.pnc, line, postcode, reg.phone, reg.email,
                )  # fmt: skip
                if e_index < 0:
                    rows.append(identity)
                    register_ids[d_index].append((source.name, record_id))
                    continue
                event_ids[d_index][e_index] = record_id
                _name, _day, event_type, end, extra = draft.events[e_index]
                if len(extra) == len(extra_columns):  # written in column order
                    tail = tuple([value for _col, value in extra])
                else:
                    values = dict(extra)
                    tail = tuple([values.get(col, "") for col in extra_columns])
                end_text = self.format_date(end, source.event_date_format) if end else ""
                event_text = self.event_date(source, day)
                rows.append((*identity, event_text, event_type, end_text, *tail))
            tables[source.name] = FeedTable(source=source, columns=columns, rows=rows)

        people = tuple(
            self.true_person(draft, event_ids[i], register_ids[i]) for i, draft in enumerate(drafts)
        )
        return City(
            seed=self.seed,
            as_of=self.as_of,
            corruption=self.c,
            people=people,
            feeds=tables,
            truth=truth,
        )

    def true_person(
        self, draft: _Draft, ids: dict[int, str], registers: list[tuple[str, str]]
    ) -> TruePerson:
        events = tuple(
            sorted(
                (
                    TrueEvent(
                        source=name,
                        source_record_id=ids[i],
                        kind=_SOURCE_KIND[name],
                        event_type=event_type,
                        event_date=day,
                        end_date=end,
                        extra=extra,
                    )
                    for i, (name, day, event_type, end, extra) in enumerate(draft.events)
                ),
                key=lambda e: (e.event_date, e.source, e.source_record_id),
            )
        )
        return TruePerson(
            key=draft.key,
            given_name=draft.given,
            middle_names=draft.middle,
            family_name=draft.family,
            other_names=tuple(draft.other_names),
            date_of_birth=draft.dob,
            sex=draft.sex,
            nhs_number=draft.nhs,
            pnc_id=draft.pnc,
            addresses=draft.addresses,
            phone=draft.phone,
            email=draft.email,
            events=events,
            twin_of=draft.twin_of,
            register_records=tuple(registers),
        )

    def record_id(self, source: Source, number: int, day: date) -> str:
        match source.kind:
            case "housing":
                return f"{source.id_prefix}/{day.year}/{number:07d}"
            case "police":
                return f"{source.id_prefix}-{day.year % 100:02d}-{number:07d}"
            case "register":
                return f"{source.id_prefix}{number:06d}"
            case _:
                return f"{source.id_prefix}{number:08d}"

    @staticmethod
    def format_date(day: date, style: str) -> str:
        if style == "uk":
            return f"{day.day:02d}/{day.month:02d}/{day.year}"
        return day.isoformat()

    def event_date(self, source: Source, day: date) -> str:
        rng = self.rng
        if source.event_date_format == "datetime":
            minute = rng.randint(0, 24 * 60 - 1)
            return f"{day.isoformat()}T{minute // 60:02d}:{minute % 60:02d}:00"
        style = source.event_date_format
        if rng.random() < 0.03:  # a hand-keyed row in the other format
            style = "iso" if style == "uk" else "uk"
        return self.format_date(day, style)

    def row_address(
        self, draft: _Draft, source: Source, reg: _Registration, day: date
    ) -> tuple[str, str]:
        rng = self.rng
        history = draft.addresses
        at = 0
        if len(history) > 1:
            starts = [a.moved_in for a in history]
            at = max(0, bisect.bisect_right(starts, day) - 1)
            if at > 0 and rng.random() < self.c.moved_address:
                at = rng.randrange(0, at)  # the partner never updated the address
        if history[at].no_fixed_abode:
            if rng.random() < self.c.nfa:
                nhs_source = source.nhs_share > 0.5
                postcode = NFA_PSEUDO_POSTCODE if nhs_source and rng.random() < 0.5 else ""
                return rng.choice(_NFA_LINES), postcode
            # Not recorded as NFA: the partner still has the last address it knew.
            while at > 0 and history[at].no_fixed_abode:
                at -= 1
            if history[at].no_fixed_abode:
                return "", ""
        formatted = reg.addresses.get(at)
        if formatted is None:
            address = history[at]
            formatted = (
                self.format_line(address.line, source),
                self.format_postcode(address.postcode),
            )
            reg.addresses[at] = formatted
        return formatted

    def format_line(self, line: str, source: Source) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.2:
            words = line.split(" ")
            words[-1] = _STREET_ABBREVIATIONS.get(words[-1], words[-1])
            line = " ".join(words)
        elif roll < 0.25:
            line = line.replace(",", "")
        if source.upper_case or rng.random() < 0.05:
            line = line.upper()
        return line

    def format_postcode(self, postcode: str) -> str:
        roll = self.rng.random()
        if roll < 0.7:
            return postcode
        if roll < 0.85:
            return postcode.replace(" ", "")
        if roll < 0.95:
            return postcode.lower()
        return postcode.replace(" ", "  ")

    # -- registrations --------------------------------------------------------------------------

    def registration(self, draft: _Draft, source: Source) -> _Registration:
        rng = self.rng
        c = self.c
        given, family = draft.given, draft.family
        former = [o for o in draft.other_names if o.kind == "former"]
        aliases = [o for o in draft.other_names if o.kind == "alias"]
        if former and rng.random() < c.married_name:
            family = former[0].family_name
        if aliases and rng.random() < c.alias:
            given, family = aliases[0].given_name, aliases[0].family_name
        if rng.random() < c.nickname and (nicks := _nicknames_for(given)):
            given = rng.choice(nicks)
        given = self.present_name(given, source)
        family = self.present_name(family, source)
        if rng.random() < c.typo:
            given = self.typo(given)
        if rng.random() < c.typo:
            family = self.typo(family)
        if rng.random() < c.swapped_names:
            given, family = family, given
        middle = ""
        if draft.middle and rng.random() < source.middle_share:
            middle = draft.middle if rng.random() < 0.8 else draft.middle[0]
            middle = self.present_name(middle, source)

        dob = draft.dob
        dob_text = ""
        roll = rng.random()
        if roll >= c.missing_dob:
            roll -= c.missing_dob
            if roll < c.placeholder_dob:
                dob = date(dob.year, 1, 1)
            elif roll < c.placeholder_dob + c.transposed_dob and dob_transposed(dob):
                dob = date(dob.year, dob.day, dob.month)
            dob_text = self.format_date(dob, source.dob_format)

        sex = draft.sex
        if rng.random() < c.missing_sex:
            sex = "U" if rng.random() < 0.5 else ""

        nhs = ""
        if rng.random() < source.nhs_share * (1 - c.missing_nhs_number):
            nhs = draft.nhs
            if rng.random() < c.invalid_nhs_number:
                nhs = nhs[:9] + str((int(nhs[9]) + rng.randint(1, 9)) % 10)
            roll = rng.random()
            if roll < 0.4:
                nhs = f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"
            elif roll < 0.45:
                nhs = f"{nhs[:3]}-{nhs[3:6]}-{nhs[6:]}"

        pnc = ""
        if draft.pnc and rng.random() < source.pnc_share:
            pnc = self.present_pnc(draft.pnc)

        phone = draft.phone if draft.phone and rng.random() < source.phone_share else ""
        if phone and rng.random() < 0.3:
            phone = phone.replace(" ", "")
        email = draft.email if draft.email and rng.random() < source.email_share else ""
        return _Registration(given, middle, family, dob_text, sex, nhs, pnc, phone, email)

    def present_name(self, name: str, source: Source) -> str:
        """How a partner's system writes a name: accents and apostrophes may be lost,
        double-barrelled names split or shortened, upper case for justice systems."""
        rng = self.rng
        if not name.isascii() and rng.random() < 0.5:
            name = _strip_accents(name)
        if "'" in name and rng.random() < 0.3:
            name = name.replace("'", "" if rng.random() < 0.6 else " ")
        if "-" in name:
            roll = rng.random()
            if roll < 0.2:
                name = name.replace("-", " ")
            elif roll < 0.3:
                name = name.split("-")[0]
        if source.upper_case or rng.random() < 0.04:
            return name.upper()
        if rng.random() < 0.02:
            return name.lower()
        return name

    def typo(self, name: str) -> str:
        rng = self.rng
        if len(name) < 3:
            return name
        i = rng.randrange(1, len(name))
        roll = rng.random()
        if roll < 0.3:
            return name[:i] + name[i + 1 :]
        if roll < 0.55:
            return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]
        if roll < 0.8:
            letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
            if name[i].isupper():
                letter = letter.upper()
            return name[:i] + letter + name[i + 1 :]
        return name[:i] + name[i] + name[i:]

    def present_pnc(self, pnc: str) -> str:
        roll = self.rng.random()
        yy, rest = pnc.split("/")
        if roll < 0.7:
            return pnc
        if roll < 0.85:
            return f"{yy}/{int(rest[:7])}{rest[7]}"  # serial not zero-padded
        century = "19" if int(yy) > self.as_of.year % 100 else "20"
        return f"{century}{yy}/{rest}"  # long form with a four-digit year
