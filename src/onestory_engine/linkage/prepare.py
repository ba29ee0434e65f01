"""From partner feed rows to the standardised table that record linkage compares.

Each identity column is cleaned once per distinct value (partners repeat the same person on
every event row, so a million rows hold far fewer distinct names, dates and addresses) with
the functions of :mod:`onestory_engine.standardise`, then spread back over the rows with
Arrow's ``take``. A value that cannot be cleaned becomes null: it is kept as raw data by the
caller and simply gives no evidence here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Final

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from onestory_engine import standardise as st

RAW_COLUMNS: Final[tuple[str, ...]] = (
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
"""The feed identity columns (``spec/feeds.md``) that linkage reads, besides ``record_id``."""

_LIST_OF_STRINGS: Final = pa.list_(pa.string())

LINKAGE_SCHEMA: Final = pa.schema(
    [
        pa.field("record_id", pa.string(), nullable=False),
        pa.field("given", pa.string()),  # cleaned given name ("mary ann")
        pa.field("given_canon", pa.string()),  # nicknames folded ("bill" -> "william")
        pa.field("family", pa.string()),  # cleaned family name ("smith jones")
        pa.field("family_joined", pa.string()),  # parts run together ("smithjones")
        pa.field("family_tokens", _LIST_OF_STRINGS),  # parts (["smith", "jones"])
        pa.field("full_name", pa.string()),  # "mary ann smithjones"; null unless both names
        pa.field("dob", pa.string()),  # YYYY-MM-DD: strings compare alike on every backend
        pa.field("dob_transposed", pa.string()),  # day and month swapped, when that is a date
        pa.field("dob_year", pa.string()),
        pa.field("dob_placeholder", pa.bool_()),  # 1 January: weak evidence
        pa.field("sex", pa.string()),  # M, F, X; null when unknown
        pa.field("nhs_number", pa.string()),  # valid check digit only
        pa.field("pnc_id", pa.string()),  # canonical YY/NNNNNNNA, valid check letter only
        pa.field("postcode", pa.string()),  # "NG1 5FT"; null when NFA
        pa.field("postcode_outward", pa.string()),  # "NG1"
        pa.field("address", pa.string()),  # folded address line; null when NFA
        pa.field("no_fixed_abode", pa.bool_()),
        pa.field("phone", pa.string()),  # digits, UK national form
        pa.field("email", pa.string()),
        pa.field("profile_key", pa.string(), nullable=False),
    ]
)
"""The columns :func:`prepare` returns. ``profile_key`` (an MD5 digest) is the same for two
records exactly when every compared column is the same, so identical records are scored
once."""

# The columns that make a profile: every column a comparison reads (derived columns such as
# ``family_tokens`` or ``dob_year`` follow from these).
PROFILE_COLUMNS: Final[tuple[str, ...]] = (
    "given",
    "family",
    "dob",
    "sex",
    "nhs_number",
    "pnc_id",
    "postcode",
    "address",
    "phone",
    "email",
)

# Street-type abbreviations, expanded only as the last word of an address ("St Ann's Road"
# keeps its saint).
_STREET_TYPES: Final = {
    "rd": "road", "st": "street", "str": "street", "ave": "avenue", "av": "avenue",
    "ln": "lane", "cl": "close", "dr": "drive", "drv": "drive", "cres": "crescent",
    "cresc": "crescent", "cr": "crescent", "gdns": "gardens", "gdn": "gardens",
    "terr": "terrace", "ter": "terrace", "tce": "terrace", "pl": "place", "ct": "court",
    "sq": "square", "gr": "grove", "gro": "grove", "wk": "walk", "pk": "park", "hl": "hill",
}  # fmt: skip
_ADDRESS_WORDS: Final = {"apt": "flat", "apartment": "flat"}
_NON_ALNUM: Final = re.compile(r"[^0-9a-z]+")
_APOSTROPHES: Final = re.compile(r"['’‘`´ʼ]")
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_SEX: Final = {"M": "M", "MALE": "M", "F": "F", "FEMALE": "F", "X": "X"}
_EARLIEST_BIRTH: Final = date(1900, 1, 1)
_NHS_SHAPE: Final = re.compile(r"\d{3}[ -]?\d{3}[ -]?\d{4}")
_NON_LETTERS: Final = re.compile(r"[^a-z]+")
# Every text that standardise.is_no_fixed_abode accepts holds one of these once reduced to its
# letters; checking that first spares its slower regular expressions for ordinary addresses.
_NFA_HINTS: Final = (
    "nofixed", "nfa", "noabode", "nopermanent", "nosettled", "homeless", "roughsleep", "zzvz",
)  # fmt: skip


def nhs_number_fast(raw: str | None) -> str | None:
    """Same answer as :func:`standardise.nhs_number_clean`, quicker for the usual shapes
    (``"9434765919"``, ``"943 476 5919"``, ``"943-476-5919"``); anything else goes to it."""
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    if _NHS_SHAPE.fullmatch(text) is None:
        return st.nhs_number_clean(raw)
    digits = text.replace(" ", "").replace("-", "")
    if len(set(digits)) == 1:
        return None
    check = st.nhs_check_digit(digits[:9])
    return digits if check is not None and check == int(digits[9]) else None


def no_fixed_abode_fast(text: str | None) -> bool:
    """Same answer as :func:`standardise.is_no_fixed_abode`, quicker for ordinary
    addresses and postcodes."""
    if not text:
        return False
    letters = _NON_LETTERS.sub("", text.casefold())
    if not any(hint in letters for hint in _NFA_HINTS):
        return False
    return st.is_no_fixed_abode(text)


def address_clean(raw: str | None) -> str | None:
    """An address line folded for comparison (``"Flat 7, 144 Pearson Rd"`` ->
    ``"flat 7 144 pearson road"``), or ``None`` when empty or "no fixed abode"."""
    if not raw or no_fixed_abode_fast(raw):
        return None
    text = _APOSTROPHES.sub("", raw.casefold()).replace("&", " and ")
    words = _NON_ALNUM.sub(" ", text).split()
    if not words:
        return None
    words = [_ADDRESS_WORDS.get(w, w) for w in words]
    words[-1] = _STREET_TYPES.get(words[-1], words[-1])
    return " ".join(words)


def phone_clean(raw: str | None) -> str | None:
    """A UK phone number as national digits (``"07700 900123"`` and ``"+44 7700 900123"``
    both give ``"07700900123"``), or ``None`` when it is not 10 or 11 digits."""
    if not raw:
        return None
    digits = "".join(ch for ch in raw if ch.isdigit())
    if digits.startswith("44") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    if digits.startswith("0") and len(digits) in (10, 11) and len(set(digits)) > 2:
        return digits
    return None


def email_clean(raw: str | None) -> str | None:
    """An e-mail address in lower case, or ``None`` when it does not look like one."""
    if not raw:
        return None
    text = raw.strip().casefold()
    return text if _EMAIL.fullmatch(text) else None


def sex_clean(raw: str | None) -> str | None:
    """``M``, ``F`` or ``X``; ``None`` for unknown (``U``, empty, anything else)."""
    if not raw:
        return None
    return _SEX.get(raw.strip().upper())


def _empty_to_none(value: str | None) -> str | None:
    return value or None


def _dob_parts(raw: str | None) -> tuple[str | None, str | None, str | None, bool | None]:
    day = st.parse_date(raw)
    if day is None or day < _EARLIEST_BIRTH:
        return None, None, None, None
    transposed = st.dob_transposed(day)
    return (
        day.isoformat(),
        transposed.isoformat() if transposed else None,
        f"{day.year:04d}",
        st.dob_is_placeholder(day),
    )


def _given_parts(raw: str | None) -> tuple[str | None, str | None]:
    cleaned = st.name_clean(raw)
    if not cleaned:
        return None, None
    return cleaned, st.canonical_given_name(cleaned) or cleaned


def _family_parts(raw: str | None) -> tuple[str | None, str | None, list[str] | None]:
    tokens = st.name_tokens(raw)
    if not tokens:
        return None, None, None
    return " ".join(tokens), "".join(tokens), list(tokens)


def _address_parts(raw: str | None) -> tuple[str | None, bool]:
    if no_fixed_abode_fast(raw):
        return None, True
    return address_clean(raw), False


def _postcode_parts(raw: str | None) -> tuple[str | None, str | None]:
    cleaned = st.postcode_clean(raw)
    if cleaned is None or cleaned == st.NFA_PSEUDO_POSTCODE:
        return None, None
    return cleaned, cleaned.split(" ")[0]


def _map_distinct(
    column: Any, fn: Callable[[str | None], Sequence[Any]], types: Sequence[Any]
) -> list[Any]:
    """Apply ``fn`` (one raw value -> a tuple of outputs) once per distinct value of
    ``column`` and return one Arrow array per output, aligned with the rows."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    outputs = [fn(value) for value in encoded.dictionary.to_pylist()]
    arrays = []
    for i, type_ in enumerate(types):
        values = pa.array([out[i] for out in outputs], type=type_)
        arrays.append(values.take(encoded.indices))
    return arrays


def _as_raw_table(records: Iterable[Mapping[str, str | None]] | Any) -> Any:
    if isinstance(records, pa.Table):
        table = records
    else:
        rows = list(records)
        columns: dict[str, list[str | None]] = {
            name: [row.get(name) for row in rows] for name in ("record_id", *RAW_COLUMNS)
        }
        table = pa.table({k: pa.array(v, type=pa.string()) for k, v in columns.items()})
    if "record_id" not in table.column_names:
        raise ValueError("records need a record_id column")
    out = {"record_id": table.column("record_id").cast(pa.string())}
    for name in RAW_COLUMNS:
        if name in table.column_names:
            out[name] = table.column(name).cast(pa.string())
        else:
            out[name] = pa.chunked_array([pa.nulls(table.num_rows, pa.string())])
    return pa.table(out)


def prepare(records: Iterable[Mapping[str, str | None]] | Any) -> Any:
    """The standardised linkage table (:data:`LINKAGE_SCHEMA`, a ``pyarrow.Table``) for raw
    feed rows.

    ``records`` is an iterable of row mappings or a ``pyarrow.Table``; each row needs a
    unique ``record_id`` (e.g. ``"source|source_record_id"``) and may carry any of
    :data:`RAW_COLUMNS` as the partner sent them (missing columns count as empty). Names are
    folded (case, accents, punctuation, nicknames), dates of birth read in either contract
    format, NHS numbers and PNC ids kept only when their check digit or letter is right,
    postcodes put in canonical form, and "no fixed abode" in either address field recorded as
    such instead of as an address.
    """
    raw = _as_raw_table(records)
    n = raw.num_rows
    if n and pc.count_distinct(raw.column("record_id")).as_py() != n:
        raise ValueError("record_id must be unique")
    if n and raw.column("record_id").null_count:
        raise ValueError("record_id must not be empty")
    given, given_canon = _map_distinct(
        raw.column("given_name"), _given_parts, (pa.string(), pa.string())
    )
    family, family_joined, family_tokens = _map_distinct(
        raw.column("family_name"), _family_parts, (pa.string(), pa.string(), _LIST_OF_STRINGS)
    )
    dob, dob_transposed, dob_year, dob_placeholder = _map_distinct(
        raw.column("date_of_birth"),
        _dob_parts,
        (pa.string(), pa.string(), pa.string(), pa.bool_()),
    )
    (sex,) = _map_distinct(raw.column("sex"), lambda v: (sex_clean(v),), (pa.string(),))
    (nhs,) = _map_distinct(
        raw.column("nhs_number"), lambda v: (nhs_number_fast(v),), (pa.string(),)
    )
    (pnc,) = _map_distinct(raw.column("pnc_id"), lambda v: (st.pnc_id_clean(v),), (pa.string(),))
    postcode, outward, postcode_nfa = _map_distinct(
        raw.column("postcode"),
        lambda v: (*_postcode_parts(v), no_fixed_abode_fast(v)),
        (pa.string(), pa.string(), pa.bool_()),
    )
    address, address_nfa = _map_distinct(
        raw.column("address_line"),
        _address_parts,
        (pa.string(), pa.bool_()),
    )
    (phone,) = _map_distinct(raw.column("phone"), lambda v: (phone_clean(v),), (pa.string(),))
    (email,) = _map_distinct(raw.column("email"), lambda v: (email_clean(v),), (pa.string(),))

    # "No fixed abode" in either field means the row has no address at all: a stale postcode
    # beside "NFA" says where the person used to live, not where they are.
    nfa = pc.fill_null(pc.or_(postcode_nfa, address_nfa), False)
    null_string = pa.nulls(n, pa.string())
    postcode = pc.if_else(nfa, null_string, postcode)
    outward = pc.if_else(nfa, null_string, outward)
    address = pc.if_else(nfa, null_string, address)

    columns = {
        "record_id": raw.column("record_id").combine_chunks(),
        "given": given,
        "given_canon": given_canon,
        "family": family,
        "family_joined": family_joined,
        "family_tokens": family_tokens,
        "full_name": pc.binary_join_element_wise(given, family_joined, " "),
        "dob": dob,
        "dob_transposed": dob_transposed,
        "dob_year": dob_year,
        "dob_placeholder": dob_placeholder,
        "sex": sex,
        "nhs_number": nhs,
        "pnc_id": pnc,
        "postcode": postcode,
        "postcode_outward": outward,
        "address": address,
        "no_fixed_abode": nfa,
        "phone": phone,
        "email": email,
    }
    columns["profile_key"] = _profile_keys([columns[name] for name in PROFILE_COLUMNS])
    return pa.table(columns, schema=LINKAGE_SCHEMA)


def _profile_keys(parts: list[Any]) -> Any:
    """MD5 of the compared values joined (null distinct from empty): a short key that groups
    a million records in a fraction of the time the long text takes."""
    joined = pc.binary_join_element_wise(
        *parts, "\x1f", null_handling="replace", null_replacement="\x00"
    )
    con = duckdb.connect()
    try:
        con.register("k", pa.table({"k": joined}))
        return con.sql("SELECT md5(k) AS k FROM k").to_arrow_table().column("k").combine_chunks()
    finally:
        con.close()
