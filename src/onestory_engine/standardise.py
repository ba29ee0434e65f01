"""Standardising identity fields before they are stored or compared.

Pure functions, no I/O: the web app's intake uses them to validate and clean what partners
send, and record linkage uses them to build comparison columns. They never guess: a value
that cannot be cleaned confidently comes back as ``None`` and the raw value stays with the
record.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from functools import lru_cache
from typing import Final

from nicknames import NickNamer
from stdnum.gb import nhs

# ---------------------------------------------------------------------------------------------
# NHS number
# ---------------------------------------------------------------------------------------------


# Feeds repeat the same values (postcodes, dates) many times: cached.
@lru_cache(maxsize=100_000)
def nhs_number_clean(raw: str | None) -> str | None:
    """The 10-digit NHS number with spaces and dashes removed, or ``None`` when it is not a
    valid one (wrong length, not digits, or a failed modulus-11 check digit)."""
    if raw is None:
        return None
    number: str = nhs.compact(str(raw))
    if len(number) != 10 or not number.isascii() or not nhs.is_valid(number):
        return None
    # "0000000000" and the like pass modulus 11 but are what systems type for "unknown".
    if len(set(number)) == 1:
        return None
    return number


def nhs_number_is_valid(raw: str | None) -> bool:
    """Whether ``raw`` is a valid NHS number once spaces and dashes are removed."""
    return nhs_number_clean(raw) is not None


def nhs_check_digit(first_nine: str) -> int | None:
    """The modulus-11 check digit for the first nine digits of an NHS number, or ``None``
    when those nine digits can never make a valid number (the check would be 10)."""
    if len(first_nine) != 9 or not first_nine.isdigit() or not first_nine.isascii():
        raise ValueError("an NHS number starts with nine digits")
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


# ---------------------------------------------------------------------------------------------
# Police National Computer id
# ---------------------------------------------------------------------------------------------

# The check letter: (two-digit year followed by the serial padded to 7 digits) mod 23, as an
# index into this alphabet (I, O and S left out; Z is 0). Relied on: the Ministry of Justice's
# own person-record service (github.com/ministryofjustice/hmpps-person-record, PNCIdentifier.kt
# and PNCIdValidator.kt), whose tests hold real-format ids such as 2001/0171310W and
# 1981/0154257C that this reproduces. Their long form writes the year with four digits
# (1979/0163001B); the check uses only its last two.
PNC_CHECK_LETTERS: Final = "ZABCDEFGHJKLMNPQRTUVWXY"

_PNC_RE: Final = re.compile(r"(\d{2}|\d{4})/?(\d{1,7})([A-Z])")


def pnc_check_letter(year: int | str, serial: int | str) -> str:
    """The check letter for a PNC id with a two-digit ``year`` and a ``serial`` number."""
    yy = int(year) % 100
    number = int(f"{yy:02d}{int(serial):07d}")
    return PNC_CHECK_LETTERS[number % 23]


def pnc_id_clean(raw: str | None) -> str | None:
    """The canonical ``YY/NNNNNNNA`` form of a Police National Computer id, or ``None``.

    Accepts any case and spacing, a missing slash, an unpadded serial (``02/73319Z``) and the
    four-digit-year long form (``2002/0073319Z``). Returns ``None`` unless the check letter is
    right.
    """
    if raw is None:
        return None
    compact = re.sub(r"\s+", "", str(raw)).upper()
    match = _PNC_RE.fullmatch(compact)
    if match is None:
        return None
    year_text, serial_text, letter = match.groups()
    if "/" not in compact and len(year_text) == 4 and len(serial_text) < 7:
        # Without a slash "0273319Z" is year 02 + serial 73319, not year 0273 + serial 319.
        year_text, serial_text = year_text[:2], year_text[2:] + serial_text
    yy = year_text[-2:]
    serial = int(serial_text)
    if pnc_check_letter(yy, serial) != letter:
        return None
    return f"{yy}/{serial:07d}{letter}"


def pnc_id_is_valid(raw: str | None) -> bool:
    """Whether ``raw`` is a PNC id in a recognised form with the right check letter."""
    return pnc_id_clean(raw) is not None


# ---------------------------------------------------------------------------------------------
# Postcodes and "no fixed abode"
# ---------------------------------------------------------------------------------------------

# The UK postcode shapes (A9, A99, A9A, AA9, AA99, AA9A outward codes; 9AA inward), with the
# letters each position never uses; plus GIR 0AA. Adapted from the government data standard.
_OUTWARD: Final = (
    r"(?:[A-PR-UWYZ][0-9]{1,2}"
    r"|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
)
_POSTCODE_RE: Final = re.compile(rf"(?:({_OUTWARD})([0-9][ABD-HJLNP-UW-Z]{{2}})|(GIR)(0AA))")

# NHS pseudo-postcode for "no fixed abode" (the NHS Data Dictionary's ZZ99 3VZ).
NFA_PSEUDO_POSTCODE: Final = "ZZ99 3VZ"

# "NFA" may be followed by detail ("NFA - sofa surfing"); "homeless" only on its own, since
# "Homeless Hostel, 12 Shakespeare Street" is an address.
_NFA_RE: Final = re.compile(
    r"(?:of )?(?:no fixed (?:abode|address|residence|accommodation)|nfa|no abode"
    r"|no (?:permanent|settled) address)(?: .*)?"
    r"|(?:street )?homeless|rough sleep(?:er|ing)"
)


# Feeds repeat the same values (postcodes, dates) many times: cached.
@lru_cache(maxsize=100_000)
def postcode_clean(raw: str | None) -> str | None:
    """The canonical form of a UK postcode (``"NG1 5FT"``), or ``None`` when ``raw`` is not
    the shape of a UK postcode. Any case and spacing is accepted."""
    if raw is None:
        return None
    compact = re.sub(r"\s+", "", str(raw)).upper()
    match = _POSTCODE_RE.fullmatch(compact)
    if match is None:
        return None
    outward = match.group(1) or match.group(3)
    inward = match.group(2) or match.group(4)
    return f"{outward} {inward}"


# Feeds repeat the same values (postcodes, dates) many times: cached.
@lru_cache(maxsize=100_000)
def is_no_fixed_abode(text: str | None) -> bool:
    """Whether an address or postcode field says the person has no fixed abode
    ("No fixed abode", "NFA", "N.F.A.", "no fixed address", "homeless", ZZ99 3VZ...)."""
    if not text:
        return False
    lowered = text.casefold().strip()
    if re.sub(r"\s+", "", lowered) == "zz993vz":
        return True
    # "N.F.A." and "n f a" both become "nfa"; other punctuation becomes a space.
    lowered = re.sub(r"\b([a-z])[.\s]+(?=[a-z]\b)", r"\1", lowered)
    words = " ".join(re.sub(r"[^a-z]+", " ", lowered).split())
    return bool(_NFA_RE.fullmatch(words))


def postcode_is_nfa(address_line: str | None, postcode: str | None) -> bool:
    """Whether a row's address says "no fixed abode", in either field."""
    return is_no_fixed_abode(address_line) or is_no_fixed_abode(postcode)


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------

_APOSTROPHES: Final = frozenset("'’‘`´ʼ")
# Letters that Unicode does not decompose into a base letter plus an accent.
_SPECIAL_LETTERS: Final = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L",
     "đ": "d", "Đ": "D", "þ": "th", "Þ": "TH", "ð": "d", "Ð": "D", "ı": "i"}
)  # fmt: skip


@lru_cache(maxsize=200_000)
def name_clean(raw: str | None) -> str:
    """A name folded for comparison: lower case, no accents, apostrophes dropped
    (``O'Brien`` -> ``obrien``), hyphens and other punctuation as spaces
    (``Smith-Jones`` -> ``smith jones``), spaces collapsed. ``""`` when nothing is left."""
    if not raw:
        return ""
    text = unicodedata.normalize("NFKD", raw.translate(_SPECIAL_LETTERS))
    out: list[str] = []
    for ch in text.casefold():
        if ch.isalpha():
            out.append(ch)
        elif ch in _APOSTROPHES or unicodedata.combining(ch):
            continue
        else:
            out.append(" ")
    return " ".join("".join(out).split())


def name_tokens(raw: str | None) -> tuple[str, ...]:
    """The parts of a name, e.g. ``("smith", "jones")`` for ``Smith-Jones`` or
    ``Smith Jones``, so double-barrelled names can match on either part."""
    return tuple(name_clean(raw).split())


def name_joined(raw: str | None) -> str:
    """The cleaned name with its parts run together (``smithjones``), so ``Smith-Jones``,
    ``Smith Jones`` and ``SmithJones`` compare equal."""
    return "".join(name_tokens(raw))


# Common English nicknames, written out because the nicknames library (built from US sources)
# gives several full names for many of them, e.g. "bill" -> robert, william, willis.
# Each canonical form maps to itself; spelling variants of the same name (katherine,
# catherine) share one canonical so that "Kate" matches either.
GIVEN_NAME_VARIANTS: Final[dict[str, tuple[str, ...]]] = {
    "william": ("bill", "billy", "billie", "will", "willy", "willie", "wills"),
    "robert": ("bob", "bobby", "bobbie", "rob", "robbie", "robby", "bert"),
    "james": ("jim", "jimmy", "jimmie", "jimbo"),
    "michael": ("mike", "mikey", "mick", "micky", "mickey", "mikie"),
    "catherine": ("cath", "cathy", "kath", "kathy", "kate", "katie", "katy", "kat", "kitty",
                  "katherine", "katharine", "kathryn", "cathryn", "catharine"),
    "elizabeth": ("liz", "lizzie", "lizzy", "beth", "betty", "bette", "bess", "bessie", "libby",
                  "eliza", "elisabeth", "elspeth"),
    "thomas": ("tom", "tommy", "thom", "tommie"),
    "david": ("dave", "davy", "davey", "davie"),
    "christopher": ("chris", "kris", "christy", "kit"),
    "samuel": ("sam", "sammy"),
    "john": ("johnny", "johnnie"),
    "jonathan": ("jon", "jonny", "jonty", "jonathon", "johnathan"),
    "edward": ("ed", "eddie", "eddy", "ted", "teddy", "ned"),
    "henry": ("hal", "hank"),
    "margaret": ("peggy", "maggie", "meg", "madge", "marge", "margie", "mags"),
    "jennifer": ("jenny", "jen", "jenni", "jennie"),
    "daniel": ("dan", "danny"),
    "anthony": ("tony", "ant", "antony"),
    "stephen": ("steve", "stevie", "steven"),
    "patrick": ("pat", "paddy"),
    "patricia": ("trish", "tricia", "patsy", "patty"),
    "nicholas": ("nick", "nicky", "nic", "nico"),
    "nicola": ("nikki", "nicki", "nickie"),
    "rebecca": ("becky", "becca", "bex", "becki"),
    "abigail": ("abbie", "abby", "abbi"),
    "eleanor": ("ellie", "nell", "nellie", "elle", "elenor"),
    "charles": ("charlie", "chas", "chaz", "chuck"),
    "alfred": ("alf", "alfie"),
    "frederick": ("fred", "freddie", "freddy"),
    "gregory": ("greg",),
    "joseph": ("joe", "joey"),
    "joshua": ("josh",),
    "matthew": ("matt", "matty"),
    "benjamin": ("ben", "benny", "benji"),
    "susan": ("sue", "suzie", "susie", "suzy"),
    "deborah": ("debbie", "deb", "debs", "debra", "debby"),
    "andrew": ("andy", "drew"),
    "timothy": ("tim", "timmy"),
    "alexander": ("alex", "xander"),
    "victoria": ("vicky", "vicki", "vikki", "tori"),
    "pamela": ("pam",),
    "frances": ("fran",),
    "francis": ("frank", "frankie"),
    "lawrence": ("larry", "laurence"),
    "leonard": ("len", "lenny"),
    "ronald": ("ron", "ronnie"),
    "raymond": ("ray",),
    "philip": ("phil", "pip", "phillip"),
    "kenneth": ("ken", "kenny"),
    "richard": ("rich", "richie", "rick", "ricky", "dick", "dickie"),
    "peter": ("pete",),
    "donald": ("don", "donny"),
    "douglas": ("doug", "dougie"),
    "terence": ("terry", "tel", "terrence"),
    "jacqueline": ("jackie", "jacqui", "jacky"),
    "jessica": ("jess", "jessie"),
    "amanda": ("mandy",),
    "josephine": ("josie",),
    "zachary": ("zac", "zach", "zack"),
    "oliver": ("ollie", "olly"),
    "kimberley": ("kim", "kimberly"),
    "dorothy": ("dot", "dottie", "dolly"),
    "harriet": ("hattie",),
    "sebastian": ("seb",),
    "gerald": ("gerry",),
    "jeremy": ("jez",),
    "gareth": ("gaz",),
    "barry": ("baz",),
    "geoffrey": ("geoff", "jeff", "jeffrey"),
    "albert": ("albie",),
    "ernest": ("ernie", "earnest"),
    "clifford": ("cliff",),
    "stuart": ("stu", "stewart"),
    "nathaniel": ("nat",),
    "christine": ("chrissie", "chrissy"),
    "samantha": ("sammie",),
    "theresa": ("tess", "tessa", "teresa"),
    "louise": ("lou",),
    "caroline": ("caz",),
    "sarah": ("sally", "sara"),
    "gillian": ("gill", "gilly"),
}  # fmt: skip


@lru_cache(maxsize=1)
def _nicknamer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=1)
def _curated_canonical() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for canonical, variants in GIVEN_NAME_VARIANTS.items():
        lookup[canonical] = canonical
        for variant in variants:
            lookup.setdefault(variant, canonical)
    return lookup


@lru_cache(maxsize=1)
def _uk_given_names() -> frozenset[str]:
    # The ONS most-common given names for England and Wales, as Faker ships them: names in
    # use in their own right (Jack, Lee, Mark, Molly) that the US-built nicknames library
    # would otherwise fold into something else (John, Levi, Marcus, Mary). Imported lazily
    # because importing faker takes a noticeable fraction of a second.
    from faker.providers.person.en_GB import Provider

    names: tuple[str, ...] = Provider.first_names
    return frozenset(name_clean(n) for n in names)


@lru_cache(maxsize=100_000)
def _canonical_token(token: str) -> str:
    # Follow the folds to a name that stays put, so folding twice gives the same answer as
    # folding once; where the library's entries go round in a loop, take the loop's
    # alphabetically first name.
    seen = [token]
    while (step := _fold_once(seen[-1])) != seen[-1]:
        if step in seen:
            return min(seen[seen.index(step) :])
        seen.append(step)
    return step


def _fold_once(token: str) -> str:
    curated = _curated_canonical()
    if token in curated:
        return curated[token]
    if token in _uk_given_names():
        return token
    # Fold a nickname only when every full name the library gives for it comes to the same
    # canonical form; "sandy" (alexander, alexandra, sandra...) stays as it is.
    targets = {curated.get(c, c) for c in _nicknamer().canonicals_of(token)}
    if len(targets) == 1:
        return targets.pop()
    return token


def canonical_given_name(raw: str | None) -> str:
    """A given name with nicknames folded to one full form, for comparison only:
    ``Bill``, ``Billy`` and ``Will`` all give ``william``, ``Kate`` gives ``catherine``.

    Common English nicknames come from :data:`GIVEN_NAME_VARIANTS`; common names in England
    and Wales stay as they are; any other name the nicknames library knows as the nickname of
    exactly one full name is folded to it; anything else is returned cleaned
    (:func:`name_clean`). Each part of a multi-part name is folded.
    """
    return " ".join(_canonical_token(t) for t in name_tokens(raw))


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------

_ISO_DATE_RE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_UK_DATE_RE: Final = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATETIME_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?.*")
DATE_FORMATS_HELP: Final = (
    "YYYY-MM-DD (e.g. 1984-03-07), DD/MM/YYYY (e.g. 07/03/1984) "
    "or an ISO date-time (e.g. 1984-03-07T14:30:00)"
)


# Feeds repeat the same values (postcodes, dates) many times: cached.
@lru_cache(maxsize=100_000)
def parse_date_strict(raw: str | date | None) -> date:
    """The date in ``raw``, or ``ValueError`` with a plain-English reason.

    Accepts ``YYYY-MM-DD``, ``DD/MM/YYYY`` (day and month may be one digit) and an ISO
    date-time (its date as written, whatever the offset). A ``date`` or ``datetime`` (from a
    spreadsheet cell) is accepted as it is.
    """
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = (raw or "").strip()
    if not text:
        raise ValueError(f"the date is empty; expected {DATE_FORMATS_HELP}")
    if m := _ISO_DATE_RE.fullmatch(text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := _UK_DATE_RE.fullmatch(text):
        day, month, year = int(m[1]), int(m[2]), int(m[3])
    elif _ISO_DATETIME_RE.fullmatch(text):
        try:
            return datetime.fromisoformat(text).date()
        except ValueError:
            raise ValueError(
                f"{text!r} is not a valid date-time; expected {DATE_FORMATS_HELP}"
            ) from None
    else:
        raise ValueError(f"{text!r} is not a date in a format we accept: use {DATE_FORMATS_HELP}")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a real date (day {day}, month {month}, year {year})"
        ) from None


def parse_date(raw: str | date | None) -> date | None:
    """The date in ``raw`` (see :func:`parse_date_strict`), or ``None`` when it is empty or
    cannot be read."""
    try:
        return parse_date_strict(raw)
    except ValueError:
        return None


def dob_is_placeholder(d: date | None) -> bool:
    """Whether a date of birth is 1 January, which systems often enter when only the year is
    known: a weak match signal, not evidence of a different person."""
    return d is not None and d.month == 1 and d.day == 1


def dob_transposed(d: date | None) -> date | None:
    """The date with day and month swapped, when that is a different real date
    (2001-03-04 -> 2001-04-03), else ``None``."""
    if d is None or d.day == d.month or d.day > 12:
        return None
    return date(d.year, d.day, d.month)
