"""Reading and validating one partner feed file (contract: shared/spec/feeds.md).

A file that cannot be used at all raises ``FeedRefused`` with a one-line reason. A usable
file yields every row: good rows with their raw values and standardised fields, bad rows
with their row number and a plain-English reason. Nothing here touches a database.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from onestory_engine import feeds, standardise

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_ROWS = 5_000_000
MAX_CELL_CHARS = 2_000

# Spellings partners use for the sex column, mapped to the contract's codes.
_SEX_WORDS = {
    "m": "M", "male": "M", "man": "M",
    "f": "F", "female": "F", "woman": "F",
    "x": "X", "other": "X", "non-binary": "X", "nonbinary": "X",
    "u": "U", "unknown": "U", "not known": "U", "not stated": "U", "": "U",
}  # fmt: skip


class FeedRefused(ValueError):
    """The whole file is unusable; the message is the one-line reason."""


@dataclass(frozen=True)
class GoodRow:
    row_number: int
    source_record_id: str
    raw: dict[str, str]
    row_hash: str
    # standardised identity
    given_name: str
    family_name: str
    middle_names: str
    date_of_birth: date | None
    dob_placeholder: bool
    sex: str
    nhs_number: str | None
    nhs_number_invalid: bool
    pnc_id: str | None
    postcode: str | None
    address_line: str
    no_fixed_abode: bool
    phone: str
    email: str
    # event
    event_type: str
    event_date: date | None
    end_date: date | None
    role: str | None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class BadRow:
    row_number: int
    source_record_id: str
    reason: str
    raw: dict[str, str]


@dataclass
class ParsedFeed:
    kind: str
    columns: tuple[str, ...]
    encoding: str
    good: list[GoodRow] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    sha256: str = ""


def read_feed(path: Path, kind: str, *, max_bytes: int = MAX_FILE_BYTES) -> ParsedFeed:
    """Read, validate and standardise one feed file of ``kind``.

    Row numbers count the header as row 1, as a spreadsheet shows them.
    """
    if not feeds.is_feed_kind(kind):
        raise FeedRefused(
            f"unknown feed kind '{kind}': expected one of {', '.join(feeds.FEED_KINDS)}"
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FeedRefused(f"cannot read {path.name}: {exc.strerror or exc}") from exc
    if size > max_bytes:
        raise FeedRefused(
            f"{path.name} is {size / 1e6:.0f} MB; the limit is {max_bytes / 1e6:.0f} MB"
        )
    data = path.read_bytes()
    header, rows, encoding = _table(path.name, data)
    columns = _columns(header)
    _check_columns(columns, kind)
    parsed = ParsedFeed(
        kind=kind, columns=columns, encoding=encoding, sha256=hashlib.sha256(data).hexdigest()
    )
    seen: dict[str, int] = {}
    for row_number, values in rows:
        if row_number - 1 > MAX_ROWS:
            raise FeedRefused(f"{path.name} has more than {MAX_ROWS:,} rows")
        raw = _raw(columns, values)
        if not any(v.strip() for v in raw.values()):
            continue  # blank lines at the end of an export are not rows
        sid = raw.get("source_record_id", "").strip()
        reason = _validate_common(raw, sid, seen, row_number)
        if reason:
            parsed.bad.append(BadRow(row_number, sid, reason, raw))
            continue
        try:
            parsed.good.append(_good_row(raw, kind, row_number, sid))
        except _RowError as exc:
            parsed.bad.append(BadRow(row_number, sid, str(exc), raw))
            continue
        seen[sid] = row_number
    return parsed


def read_table(
    name: str, data: bytes
) -> tuple[tuple[str, ...], Iterator[tuple[int, dict[str, str]]], str]:
    """Any CSV (UTF-8, Windows-1252) or .xlsx table: its column names (lower case, spaces as
    underscores), its rows as ``(row_number, {column: value})`` and its encoding. For
    templates other than feeds (caseload migration); raises ``FeedRefused`` when unreadable.
    """
    header, rows, encoding = _table(name, data)
    columns = _columns(header)

    def raw_rows() -> Iterator[tuple[int, dict[str, str]]]:
        for row_number, values in rows:
            raw = _raw(columns, values)
            if any(v.strip() for v in raw.values()):
                yield row_number, raw

    return columns, raw_rows(), encoding


class _RowError(ValueError):
    pass


def _table(name: str, data: bytes) -> tuple[list[str], Iterator[tuple[int, list[str]]], str]:
    if data[:4] == b"PK\x03\x04" or name.lower().endswith((".xlsx", ".xlsm")):
        return _xlsx(name, data)
    if not data.strip():
        raise FeedRefused(f"{name} is empty")
    if b"\x00" in data[:4096]:
        raise FeedRefused(f"{name} is not a CSV or .xlsx file (it looks binary)")
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("cp1252"), "windows-1252"
        except UnicodeDecodeError as exc:
            raise FeedRefused(f"{name} is neither UTF-8 nor Windows-1252 text") from exc
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel()  # type: ignore[assignment]
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise FeedRefused(f"{name} has no header row") from exc

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            yield from enumerate(reader, start=2)
        except csv.Error as exc:
            raise FeedRefused(
                f"{name} cannot be read as CSV at line {reader.line_num}: {exc}"
            ) from exc

    return header, rows(), encoding


def _xlsx(name: str, data: bytes) -> tuple[list[str], Iterator[tuple[int, list[str]]], str]:
    # openpyxl parses with defusedxml when it is installed (it is a dependency), which
    # refuses entity-expansion attacks; read-only mode streams rows instead of loading all.
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FeedRefused(f"{name} cannot be opened as an .xlsx workbook") from exc
    if not book.worksheets:
        raise FeedRefused(f"{name} has no sheets")
    sheet = book.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    try:
        header = [_cell(v) for v in next(iterator)]
    except StopIteration as exc:
        raise FeedRefused(f"{name}: the first sheet is empty") from exc

    def rows() -> Iterator[tuple[int, list[str]]]:
        for i, values in enumerate(iterator, start=2):
            yield i, [_cell(v) for v in values]
        book.close()

    return header, rows(), "xlsx"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _columns(header: list[str]) -> tuple[str, ...]:
    return tuple(h.strip().lower().replace(" ", "_") for h in header)


def _check_columns(columns: tuple[str, ...], kind: str) -> None:
    if "source_record_id" not in columns:
        raise FeedRefused("no source_record_id column")
    if not set(columns) & set(feeds.IDENTIFYING_COLUMNS):
        raise FeedRefused(
            "no identity columns: a feed needs at least one of "
            + ", ".join(feeds.IDENTIFYING_COLUMNS)
        )
    if kind != "register":
        missing = [c for c in feeds.REQUIRED_EVENT_COLUMNS if c not in columns]
        if missing:
            raise FeedRefused(f"{kind} feeds need the column(s) {', '.join(missing)}")


def _raw(columns: tuple[str, ...], values: list[str]) -> dict[str, str]:
    raw: dict[str, str] = {}
    for i, column in enumerate(columns):
        value = values[i] if i < len(values) else ""
        if column and column not in raw:
            raw[column] = value[:MAX_CELL_CHARS]
    extra = values[len(columns) :]
    if any(v.strip() for v in extra):
        raw["_extra_cells"] = json.dumps(extra)[:MAX_CELL_CHARS]
    return raw


def _validate_common(raw: dict[str, str], sid: str, seen: dict[str, int], row: int) -> str:
    if not sid:
        return "missing source_record_id"
    if sid in seen:
        return f"duplicate source_record_id '{sid}' (first seen in row {seen[sid]}; kept that one)"
    if not any(raw.get(c, "").strip() for c in feeds.IDENTIFYING_COLUMNS):
        return "no identity: the row needs at least one of " + ", ".join(feeds.IDENTIFYING_COLUMNS)
    return ""


def _date(raw: dict[str, str], column: str) -> date | None:
    value = raw.get(column, "").strip()
    if not value:
        return None
    try:
        return standardise.parse_date_strict(value)
    except ValueError as exc:
        raise _RowError(f"{column} '{value}' is not a date ({exc})") from exc


def _good_row(raw: dict[str, str], kind: str, row_number: int, sid: str) -> GoodRow:
    warnings: list[str] = []
    dob = _date(raw, "date_of_birth")
    sex_raw = raw.get("sex", "").strip().lower()
    sex = _SEX_WORDS.get(sex_raw)
    if sex is None:
        warnings.append(f"sex '{raw.get('sex')}' is not M, F, X or U; recorded as unknown")
        sex = "U"
    nhs_raw = raw.get("nhs_number", "").strip()
    nhs = standardise.nhs_number_clean(nhs_raw) if nhs_raw else None
    if nhs_raw and nhs is None:
        warnings.append(f"NHS number '{nhs_raw}' fails its check digit; not used for matching")
    pnc_raw = raw.get("pnc_id", "").strip()
    pnc = standardise.pnc_id_clean(pnc_raw) if pnc_raw else None
    if pnc_raw and pnc is None:
        warnings.append(f"PNC ID '{pnc_raw}' is not in the form YY/NNNNNNA; not used for matching")
    address = raw.get("address_line", "").strip()
    postcode_raw = raw.get("postcode", "").strip()
    nfa = standardise.postcode_is_nfa(address, postcode_raw)
    postcode = None if nfa else standardise.postcode_clean(postcode_raw)
    if postcode_raw and postcode is None and not nfa:
        warnings.append(f"postcode '{postcode_raw}' is not a UK postcode")
    event_type, event_date, end_date, role = "", None, None, None
    if kind != "register":
        event_type = raw.get("event_type", "").strip().lower()
        if not event_type:
            raise _RowError("missing event_type")
        if not feeds.is_event_type(kind, event_type):
            allowed = ", ".join(feeds.EVENT_TYPES[kind])
            raise _RowError(f"event_type '{event_type}' is not used in {kind} feeds ({allowed})")
        event_date = _date(raw, "event_date")
        if event_date is None:
            raise _RowError("missing event_date")
        end_date = _date(raw, "end_date")
        if end_date is not None and end_date < event_date:
            raise _RowError(f"end_date {end_date} is before event_date {event_date}")
        for column, allowed_values in feeds.EXTRA_COLUMN_VALUES.get(kind, {}).items():
            value = raw.get(column, "").strip().lower()
            if value and value not in allowed_values:
                if column == "role":
                    raise _RowError(f"role '{value}' is not one of {', '.join(allowed_values)}")
                warnings.append(f"{column} '{value}' is not one of {', '.join(allowed_values)}")
        role = feeds.normalise_role(kind, raw.get("role"))
    return GoodRow(
        row_number=row_number,
        source_record_id=sid,
        raw=raw,
        row_hash=hashlib.sha256(
            json.dumps(raw, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest(),
        given_name=raw.get("given_name", "").strip(),
        family_name=raw.get("family_name", "").strip(),
        middle_names=raw.get("middle_names", "").strip(),
        date_of_birth=dob,
        dob_placeholder=standardise.dob_is_placeholder(dob),
        sex=sex,
        nhs_number=nhs,
        nhs_number_invalid=bool(nhs_raw) and nhs is None,
        pnc_id=pnc,
        postcode=postcode,
        address_line="" if nfa else address,
        no_fixed_abode=nfa,
        phone=raw.get("phone", "").strip(),
        email=raw.get("email", "").strip(),
        event_type=event_type,
        event_date=event_date,
        end_date=end_date,
        role=role,
        warnings=tuple(warnings),
    )
