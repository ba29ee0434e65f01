"""Reading and validating one partner feed file (contract: shared/spec/feeds.md).

A file that cannot be used at all raises ``FeedRefused`` with a one-line reason. A usable
file yields every row: good rows with their raw values and standardised fields (one Arrow
table), bad rows with their row number and a plain-English reason. Nothing here touches a
database. The rules run on whole columns (ADR 0017).
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from onestory_engine import feeds, fhir_feed, standardise

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
class BadRow:
    row_number: int
    source_record_id: str
    reason: str
    raw: dict[str, str]
    # The column the reason is about ("" when it is about the row as a whole: no identity).
    field: str = ""


# The good rows of a feed, one Arrow column each: what is stored for every record.
GOOD_SCHEMA: Final = pa.schema(
    [
        ("row_number", pa.int64()),
        ("source_record_id", pa.string()),
        ("raw", pa.string()),  # the row as sent, a JSON object in column order
        ("row_hash", pa.string()),
        ("given_name", pa.string()),
        ("family_name", pa.string()),
        ("middle_names", pa.string()),
        ("date_of_birth", pa.date32()),
        ("dob_placeholder", pa.bool_()),
        ("sex", pa.string()),
        ("nhs_number", pa.string()),  # "" unless valid
        ("nhs_number_invalid", pa.bool_()),
        ("pnc_id", pa.string()),  # "" unless valid
        ("postcode", pa.string()),  # "" unless a UK postcode
        ("address_line", pa.string()),
        ("no_fixed_abode", pa.bool_()),
        ("phone", pa.string()),
        ("email", pa.string()),
        ("event_type", pa.string()),
        ("event_date", pa.date32()),
        ("end_date", pa.date32()),
        ("role", pa.string()),
        ("warned", pa.bool_()),  # a value was kept with a warning (e.g. an unknown sex)
    ]
)


@dataclass
class ParsedFeed:
    kind: str
    columns: tuple[str, ...]
    encoding: str
    good: pa.Table = field(default_factory=GOOD_SCHEMA.empty_table)
    bad: list[BadRow] = field(default_factory=list)
    sha256: str = ""
    # What a bad row's number counts: a file's rows, or a FHIR Bundle's entries (0-based).
    row_label: str = "row"

    @property
    def warnings(self) -> int:
        """How many good rows kept a value with a warning."""
        return int(pc.sum(self.good.column("warned")).as_py() or 0)


def read_feed(path: Path, kind: str, *, max_bytes: int = MAX_FILE_BYTES) -> ParsedFeed:
    """Read, validate and standardise one feed file of ``kind``.

    Row numbers count the header as row 1, as a spreadsheet shows them. The rules run on
    whole columns (ADR 0017): each standardiser once per distinct value, the row rules as
    one query.
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
    if fhir_feed.looks_like_json(data):
        return _read_bundle(data, kind)
    cells = _cells(path.name, data)
    columns = _columns(cells.header)
    _check_columns(columns, kind)
    parsed = ParsedFeed(
        kind=kind,
        columns=columns,
        encoding=cells.encoding,
        sha256=hashlib.sha256(data).hexdigest(),
    )
    parsed.good, parsed.bad = _validate(_raw_table(columns, cells), kind)
    return parsed


def _read_bundle(data: bytes, kind: str) -> ParsedFeed:
    """A FHIR Bundle as the rows of a feed of ``kind``, through the same validation as a
    file (ADR 0020). Row numbers are entry indexes; reasons name the entry and FHIR field."""
    try:
        bundle = fhir_feed.read_bundle(data, kind)
    except fhir_feed.BundleRefused as exc:
        raise FeedRefused(str(exc)) from exc
    columns = bundle.columns
    records = [[row.values.get(c, "") for c in columns] for row in bundle.rows]
    cells = _Cells(
        header=list(columns),
        columns=[pa.array([r[i] for r in records], pa.string()) for i in range(len(columns))],
        rows=len(records),
        extra={},
        encoding="utf-8",
    )
    good, bad = _validate(_raw_table(columns, cells), kind)
    # Row n of the made-up table is bundle.rows[n - 2]: give back entry indexes.
    by_row = {n + 2: row for n, row in enumerate(bundle.rows)}

    def entry_of(match: re.Match[str]) -> str:
        row = by_row.get(int(match.group(1)))
        return f"Bundle.entry[{row.entry}]" if row else match.group(0)

    entries = pa.array([by_row[n].entry for n in good.column("row_number").to_pylist()], pa.int64())
    good = good.set_column(good.schema.get_field_index("row_number"), "row_number", entries)
    parsed = ParsedFeed(
        kind=kind,
        columns=columns,
        encoding="utf-8",
        good=good,
        sha256=hashlib.sha256(data).hexdigest(),
        row_label="entry",
    )
    parsed.bad = [
        BadRow(b.entry, b.source_record_id, b.reason[:500], b.raw) for b in bundle.bad
    ] + [
        BadRow(
            by_row[b.row_number].entry,
            b.source_record_id,
            fhir_feed.explain(by_row[b.row_number], re.sub(r"row (\d+)", entry_of, b.reason)),
            b.raw,
        )
        for b in bad
    ]
    parsed.bad.sort(key=lambda b: b.row_number)
    return parsed


def read_rows(rows: list[dict[str, str]], kind: str, *, name: str = "rows") -> ParsedFeed:
    """Validate and standardise feed rows sent one by one (the partner API) exactly as the
    rows of a file of ``kind``: the columns are every key any row has, in the order first
    seen. Row numbers count from 1 (the first row is row 1). Every row sent gets an answer:
    a row with no values, no id or no identity is quarantined with its reason."""
    if not feeds.is_feed_kind(kind):
        raise FeedRefused(
            f"unknown feed kind '{kind}': expected one of {', '.join(feeds.FEED_KINDS)}"
        )
    if not rows:
        raise FeedRefused(f"{name}: there are no rows")
    if len(rows) > MAX_ROWS:
        raise FeedRefused(f"{name} has more than {MAX_ROWS:,} rows")
    # Each row's own columns (names as a file's header is read: case-insensitive, the first
    # of a name kept), so a row's raw data and hash do not depend on what else was sent.
    # NUL characters are dropped: no file carries them (a CSV with one is read by the csv
    # module, which refuses it) and PostgreSQL cannot store them (found by schemathesis).
    own: list[dict[str, str]] = []
    for row in rows:
        values: dict[str, str] = {}
        for key, value in row.items():
            (column,) = _columns([key.replace("\x00", "")])
            if column and column not in values:
                values[column] = (value or "").replace("\x00", "")[:MAX_CELL_CHARS]
        own.append(values)
    # No check of the columns as a whole (a file without source_record_id is refused): each
    # row is answered on its own, so a row missing its id or identity is quarantined.
    columns = tuple(dict.fromkeys(c for values in own for c in values))
    cells = _Cells(
        list(columns),
        [pa.array([values.get(c, "") for values in own], pa.string()) for c in columns],
        len(rows),
        {},
        "json",
    )
    digest = hashlib.sha256(json.dumps(own, sort_keys=True, ensure_ascii=False).encode())
    parsed = ParsedFeed(kind=kind, columns=columns, encoding="json", sha256=digest.hexdigest())
    table = _raw_table(columns, cells, keep_blank=True, first_row=1)
    for name, sort_keys in (("raw", False), ("raw_sorted", True)):
        dumped = [json.dumps(v, sort_keys=sort_keys, ensure_ascii=False) for v in own]
        table = table.set_column(table.schema.get_field_index(name), name, pa.array(dumped))
    parsed.good, parsed.bad = _validate(table, kind)
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


# ---------------------------------------------------------------------------------------------
# Cells: the file as columns of strings
# ---------------------------------------------------------------------------------------------

# Python's csv module refuses a longer field (csv.field_size_limit()); so does the fast path.
_CSV_FIELD_LIMIT: Final = 131_072


@dataclass
class _Cells:
    """Every record of a file after its header, as columns of strings (a short row padded
    with ""), with the cells beyond the header of the rows that have them."""

    header: list[str]
    columns: list[pa.Array]
    rows: int
    extra: dict[int, list[str]]  # row index -> its cells beyond the header
    encoding: str


def _cells(name: str, data: bytes) -> _Cells:
    """Read a CSV or .xlsx file into columns. CSV goes through Arrow's reader when the file
    is one it reads exactly as Python's csv module does (ADR 0017), else through that
    module; both give the same cells."""
    if data[:4] != b"PK\x03\x04" and not name.lower().endswith((".xlsx", ".xlsm")):
        fast = _arrow_cells(name, data)
        if fast is not None:
            return fast
    return python_cells(name, data)


def python_cells(name: str, data: bytes) -> _Cells:
    """The cells as Python's csv module (or openpyxl, for .xlsx) reads them."""
    header, rows, encoding = _table(name, data)
    records: list[list[str]] = []
    for row_number, values in rows:
        if row_number - 1 > MAX_ROWS:
            raise FeedRefused(f"{name} has more than {MAX_ROWS:,} rows")
        records.append(values)
    width = len(header)
    extra = {i: values[width:] for i, values in enumerate(records) if len(values) > width}
    columns = [
        pa.array(values, pa.string())
        for values in itertools.islice(itertools.zip_longest(*records, fillvalue=""), width)
    ]
    # A column no row reaches (a header longer than every row) is all "".
    columns += [pa.array([""] * len(records), pa.string())] * (width - len(columns))
    return _Cells(header, columns, len(records), extra, encoding)


def _arrow_cells(name: str, data: bytes) -> _Cells | None:
    """The cells as Arrow's CSV reader reads them, or ``None`` when the file might be read
    differently from Python's csv module (then that module reads it)."""
    if not data.strip() or b"\x00" in data:
        return None  # refused, or NUL bytes: the csv module's own handling and messages
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("cp1252"), "windows-1252"
        except UnicodeDecodeError:
            return None
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel()  # type: ignore[assignment]
    # Arrow reads quotes as the csv module does (doubled or not, test_feed_golden.py);
    # other quoting rules go the slow way.
    if dialect.quotechar != '"' or dialect.skipinitialspace or dialect.escapechar is not None:
        return None
    utf8 = data.removeprefix(b"\xef\xbb\xbf") if encoding == "utf-8" else text.encode()
    try:
        width = len(next(csv.reader(io.StringIO(text, newline=""), dialect)))
    except (StopIteration, csv.Error):
        return None
    invalid: list[int] = []

    def on_invalid(row: Any) -> str:
        # A row with a different number of cells (a short, long or whitespace-only line, an
        # unclosed quote): Python's csv module keeps such rows; let it read the file.
        invalid.append(row.number)
        return "skip"

    try:
        table = pa_csv.read_csv(
            io.BytesIO(utf8),
            read_options=pa_csv.ReadOptions(autogenerate_column_names=True),
            parse_options=pa_csv.ParseOptions(
                delimiter=dialect.delimiter,
                quote_char='"',
                double_quote=bool(dialect.doublequote),
                escape_char=False,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(width)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                include_missing_columns=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if invalid or table.num_rows == 0:
        return None
    if table.num_rows - 1 > MAX_ROWS:
        raise FeedRefused(f"{name} has more than {MAX_ROWS:,} rows")
    columns = [c.combine_chunks() for c in table.columns]
    if any(not pa.types.is_string(c.type) for c in columns):
        columns = [c.cast(pa.string()) for c in columns]
    longest = max((pc.max(pc.binary_length(c)).as_py() or 0) for c in columns)
    if longest > _CSV_FIELD_LIMIT:
        return None  # the csv module refuses such a field: its message, its line number
    header = [c[0].as_py() for c in columns]
    # A blank line is a row of one empty cell to the csv module and of empty cells here;
    # both are skipped as blank, and both count it in the row numbers.
    return _Cells(header, [c.slice(1) for c in columns], table.num_rows - 1, {}, encoding)


# ---------------------------------------------------------------------------------------------
# The rules, on whole columns
# ---------------------------------------------------------------------------------------------


def _per_value(column: pa.Array, fn: Callable[[Any], Any], type_: pa.DataType) -> pa.Array:
    """``fn`` applied once per distinct value of ``column``, aligned with its rows: feeds
    repeat their values (dates, postcodes, event types), and the rules stay plain Python."""
    encoded = pc.dictionary_encode(column)
    mapped = pa.array([fn(v) for v in encoded.dictionary.to_pylist()], type_)
    return mapped.take(encoded.indices)


def _all(value: bool, rows: int) -> pa.Array:
    return pa.array([value] * rows, pa.bool_())


def _strip(value: str) -> str:
    return value.strip()


def limit_chars(column: pa.Array, chars: int) -> pa.Array:
    """``value[:chars]`` of every value (Python slicing, by code point)."""
    if len(column) == 0 or (pc.max(pc.utf8_length(column)).as_py() or 0) <= chars:
        return column
    return _per_value(column, lambda v: v[:chars], pa.string())


# Characters json.dumps(..., ensure_ascii=False) escapes: quote, backslash, control characters.
_JSON_ESCAPES: Final = r'["\\\x00-\x1f]'


def _json_string(column: pa.Array) -> pa.Array:
    """Each value as json.dumps(value, ensure_ascii=False) writes it."""
    plain = pc.binary_join_element_wise('"', column, '"', "")
    needs = pc.match_substring_regex(column, _JSON_ESCAPES)
    if not pc.any(needs).as_py():
        return plain
    odd = pc.if_else(needs, column, "")
    escaped = _per_value(odd, lambda v: json.dumps(v, ensure_ascii=False), pa.string())
    return pc.if_else(needs, escaped, plain)


def _json_object(keys: list[str], values: dict[str, pa.Array], rows: int) -> pa.Array:
    """One JSON object per row, ``{"key": "value", ...}`` in the order of ``keys``, written
    as json.dumps writes it (", " and ": " separators, ensure_ascii=False)."""
    if not keys:
        return pa.array(["{}"] * rows, pa.string())
    parts: list[Any] = []
    for i, key in enumerate(keys):
        parts.append(("{" if i == 0 else ", ") + json.dumps(key, ensure_ascii=False) + ": ")
        parts.append(values[key])
    parts.append("}")
    return pc.binary_join_element_wise(*parts, "")


def _raw_table(
    columns: tuple[str, ...], cells: _Cells, *, keep_blank: bool = False, first_row: int = 2
) -> pa.Table:
    """Each non-blank row's raw values (the first column of each name; unnamed columns
    dropped; cells cut at MAX_CELL_CHARS), its row number, and the JSON of its raw values
    in column order (``raw``) and with sorted keys (``raw_sorted``, what ``row_hash`` hashes).
    A file's first record is row 2 (after its header); ``first_row`` says otherwise, and
    ``keep_blank`` keeps blank rows (the API answers every row it is sent)."""
    names: dict[str, pa.Array] = {}
    for column, values in zip(columns, cells.columns, strict=True):
        if column and column not in names:
            names[column] = limit_chars(values, MAX_CELL_CHARS)
    extra = {
        i: json.dumps(values)[:MAX_CELL_CHARS]
        for i, values in cells.extra.items()
        if any(v.strip() for v in values)
    }
    row_number = pa.array(range(first_row, cells.rows + first_row), pa.int64())
    blank = _all(not keep_blank, cells.rows)
    for values in names.values():
        blank = pc.and_(blank, pc.invert(_per_value(values, lambda v: bool(v.strip()), pa.bool_())))
    if extra:
        no_extra = [True] * cells.rows
        for i in extra:
            no_extra[i] = False
        blank = pc.and_(blank, pa.array(no_extra, pa.bool_()))
    keep = pc.invert(blank)
    kept = {k: pc.filter(v, keep) for k, v in names.items()}
    rows = int(pc.sum(keep).as_py() or 0)
    table = pa.table(
        {
            "row_number": pc.filter(row_number, keep),
            **{f"raw:{k}": v for k, v in kept.items()},
        }
    )
    encoded = {k: _json_string(v) for k, v in kept.items()}
    table = table.append_column("raw", _json_object(list(kept), encoded, rows))
    table = table.append_column("raw_sorted", _json_object(sorted(kept), encoded, rows))
    if extra:
        # Rows with cells beyond the header: their raw gains "_extra_cells" (rare; by row).
        index = {n: i for i, n in enumerate(table.column("row_number").to_pylist())}
        raw = table.column("raw").to_pylist()
        raw_sorted = table.column("raw_sorted").to_pylist()
        for i, value in extra.items():
            row = index[i + first_row]
            values = {k: kept[k][row].as_py() for k in kept}
            values["_extra_cells"] = value
            raw[row] = json.dumps(values, ensure_ascii=False)
            raw_sorted[row] = json.dumps(values, sort_keys=True, ensure_ascii=False)
        table = table.set_column(table.schema.get_field_index("raw"), "raw", pa.array(raw))
        table = table.set_column(
            table.schema.get_field_index("raw_sorted"), "raw_sorted", pa.array(raw_sorted)
        )
    return table


def _column(table: pa.Table, name: str) -> pa.Array:
    """A raw column's values, or "" for every row when the file has no such column."""
    key = f"raw:{name}"
    if key in table.column_names:
        return table.column(key).combine_chunks()
    return pa.array([""] * table.num_rows, pa.string())


def _date_rule(column: str) -> Callable[[str], tuple[date | None, str | None]]:
    def rule(value: str) -> tuple[date | None, str | None]:
        value = value.strip()
        if not value:
            return None, None
        try:
            return standardise.parse_date_strict(value), None
        except ValueError as exc:
            return None, f"{column} '{value}' is not a date ({exc})"

    return rule


# Dates as feeds mostly send them, read on whole columns (ASCII digits only: anything
# else, such as spaces, a time of day or other scripts' digits, goes through the rule).
# (An ISO date-time with a plain time of day, its date as written, is one of them.)
_ISO_PARTS: Final = (
    r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})"
    r"(?:[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?)?$"
)
_UK_PARTS: Final = r"^(?P<d>[0-9]{1,2})/(?P<m>[0-9]{1,2})/(?P<y>[0-9]{4})$"


def _plain_dates(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Each value's date where it is a real date written ``YYYY-MM-DD`` or ``D/M/YYYY``
    (as ``parse_date_strict`` reads them), and which values those were."""
    parts = {"y": [], "m": [], "d": []}  # type: dict[str, list[pa.Array]]
    for pattern in (_ISO_PARTS, _UK_PARTS):
        found = pc.extract_regex(values, pattern)
        for key in parts:
            parts[key].append(pc.struct_field(found, key))
    year, month, day = (pc.cast(pc.coalesce(*parts[k]), pa.int32()) for k in ("y", "m", "d"))
    leap = pc.and_(
        pc.equal(pc.bit_wise_and(year, 3), 0),
        pc.or_(pc.not_equal(pc.remainder(year, 100), 0), pc.equal(pc.remainder(year, 400), 0)),
    )
    days = pc.if_else(
        pc.equal(month, 2),
        pc.if_else(leap, 29, 28),
        pc.if_else(pc.is_in(month, pa.array([4, 6, 9, 11], pa.int32())), 30, 31),
    )
    real = pc.and_(
        pc.and_(pc.greater_equal(year, 1), pc.and_(pc.greater_equal(month, 1),
                                                   pc.less_equal(month, 12))),
        pc.and_(pc.greater_equal(day, 1), pc.less_equal(day, days)),
    )  # fmt: skip
    real = pc.fill_null(real, False)

    def padded(part: pa.Array, width: int) -> pa.Array:
        return pc.utf8_lpad(pc.cast(part, pa.string()), width, "0")

    iso = pc.binary_join_element_wise(padded(year, 4), padded(month, 2), padded(day, 2), "-")
    return pc.cast(pc.if_else(real, iso, pa.scalar(None, pa.string())), pa.date32()), real


def _plain_or_rule(
    values: pa.Array,
    plain: Callable[[pa.Array], tuple[list[pa.Array], pa.Array]],
    rule: Callable[[str], tuple[Any, ...]],
    types: tuple[pa.DataType, ...],
) -> list[pa.Array]:
    """``rule``'s outputs for each row, worked out once per distinct value: ``plain`` gives
    them on the whole column for the values it can read (and says which), ``rule`` (plain
    Python) gives them for the rest, with its own messages."""
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary
    outputs, done = plain(distinct)
    rest = pc.invert(done)
    slow = [rule(v) for v in distinct.filter(rest).to_pylist()]
    return [
        pc.replace_with_mask(out, rest, pa.array([s[i] for s in slow], t)).take(encoded.indices)
        for i, (out, t) in enumerate(zip(outputs, types, strict=True))
    ]


def _dates(values: pa.Array, column: str) -> tuple[pa.Array, pa.Array]:
    """A date column's dates (null when empty or unreadable) and each row's reason when it
    is unreadable (else null): plain dates on the whole column, the rest by
    ``parse_date_strict`` itself (its reasons are the messages)."""

    def plain(distinct: pa.Array) -> tuple[list[pa.Array], pa.Array]:
        dates, real = _plain_dates(distinct)
        return [dates, pa.nulls(len(distinct), pa.string())], real

    dates, reasons = _plain_or_rule(values, plain, _date_rule(column), (pa.date32(), pa.string()))
    return dates, reasons


def _sex(value: str) -> tuple[str, bool]:
    sex = _SEX_WORDS.get(value.strip().lower())
    return ("U", True) if sex is None else (sex, False)


def _nhs(value: str) -> tuple[str, bool]:
    stripped = value.strip()
    nhs = standardise.nhs_number_clean(stripped) if stripped else None
    return nhs or "", bool(stripped) and nhs is None


# NHS numbers of ASCII digits, spaces and dashes, checked on whole columns; anything else
# (other characters, surrounding whitespace) goes through ``_nhs``.
_PLAIN_NHS: Final = r"^[0-9\-]([0-9 \-]*[0-9\-])?$"


def _plain_nhs_numbers(distinct: pa.Array) -> tuple[list[pa.Array], pa.Array]:
    """``_nhs``'s outputs for values of ASCII digits, spaces and dashes (modulus 11 over
    the ten digits, weights 10 down to 1), and which values those were."""
    plain = pc.fill_null(pc.match_substring_regex(distinct, _PLAIN_NHS), False)
    digits = pc.replace_substring(pc.replace_substring(distinct, " ", ""), "-", "")
    ten = pc.and_(plain, pc.equal(pc.utf8_length(digits), 10))
    total = pa.scalar(0, pa.int64())
    for i in range(10):
        digit = pc.cast(pc.if_else(ten, pc.utf8_slice_codeunits(digits, i, i + 1), "0"), pa.int64())
        total = pc.add(total, pc.multiply(digit, 10 - i))
    # "0000000000" and the like pass modulus 11 but are what systems type for "unknown".
    repeated = pc.match_substring_regex(digits, r"^(0+|1+|2+|3+|4+|5+|6+|7+|8+|9+)$")
    valid = pc.and_(pc.and_(ten, pc.equal(pc.remainder(total, 11), 0)), pc.invert(repeated))
    return [pc.if_else(valid, digits, ""), pc.invert(valid)], plain


def _nhs_numbers(values: pa.Array) -> list[pa.Array]:
    """Each value's NHS number ("" when it is not a valid one) and whether a value that is
    not one was sent, as ``_nhs`` gives them."""
    return _plain_or_rule(values, _plain_nhs_numbers, _nhs, (pa.string(), pa.bool_()))


def _pnc(value: str) -> tuple[str, bool]:
    stripped = value.strip()
    pnc = standardise.pnc_id_clean(stripped) if stripped else None
    return pnc or "", bool(stripped) and pnc is None


def _postcode(value: str) -> tuple[str, bool]:
    """The cleaned postcode ("" when not one) and whether a value that is not one was sent."""
    stripped = value.strip()
    postcode = standardise.postcode_clean(stripped)
    return postcode or "", bool(stripped) and postcode is None


def _outputs(
    values: pa.Array, fn: Callable[[str], tuple[Any, ...]], types: tuple[pa.DataType, ...]
) -> list[pa.Array]:
    encoded = pc.dictionary_encode(values)
    outputs = [fn(v) for v in encoded.dictionary.to_pylist()]
    return [
        pa.array([out[i] for out in outputs], t).take(encoded.indices) for i, t in enumerate(types)
    ]


def _validate(table: pa.Table, kind: str) -> tuple[pa.Table, list[BadRow]]:
    """The good rows (:data:`GOOD_SCHEMA`) and the bad rows with their reasons.

    The reasons, in the order a row is checked (its first failure is its reason): missing
    source_record_id; a duplicate of an earlier good row's id; no identity; an unreadable
    date of birth; for event kinds, a missing or unknown event type, an unreadable or
    missing event date, an unreadable end date or one before the event date, and a role
    that is not one of the contract's.
    """
    sid = _per_value(_column(table, "source_record_id"), _strip, pa.string())
    identified = _all(False, table.num_rows)
    for column in feeds.IDENTIFYING_COLUMNS:
        present = _per_value(_column(table, column), lambda v: bool(v.strip()), pa.bool_())
        identified = pc.or_(identified, present)
    no_identity = "no identity: the row needs at least one of " + ", ".join(
        feeds.IDENTIFYING_COLUMNS
    )
    dob, dob_error = _dates(_column(table, "date_of_birth"), "date_of_birth")
    errors: list[pa.Array] = [
        pc.if_else(identified, pa.scalar(None, pa.string()), no_identity),
        dob_error,
    ]
    # The column each entry of ``errors`` is about, in the same order.
    error_fields = ["", "date_of_birth"]
    warned = [
        *_outputs(_column(table, "sex"), _sex, (pa.string(), pa.bool_())),
    ]
    sex = warned.pop(0)
    nhs, nhs_invalid = _nhs_numbers(_column(table, "nhs_number"))
    pnc, pnc_invalid = _outputs(_column(table, "pnc_id"), _pnc, (pa.string(), pa.bool_()))
    address = _per_value(_column(table, "address_line"), _strip, pa.string())
    postcode_raw = _column(table, "postcode")
    nfa = pc.or_(
        _per_value(address, standardise.is_no_fixed_abode, pa.bool_()),
        _per_value(postcode_raw, lambda v: standardise.is_no_fixed_abode(v.strip()), pa.bool_()),
    )
    postcode, postcode_bad = _outputs(postcode_raw, _postcode, (pa.string(), pa.bool_()))
    postcode = pc.if_else(nfa, "", postcode)
    warned += [nhs_invalid, pnc_invalid, pc.and_(postcode_bad, pc.invert(nfa))]
    empty = pa.array([""] * table.num_rows, pa.string())
    no_date = pa.nulls(table.num_rows, pa.date32())
    event_type, event_date, end_date, role = empty, no_date, no_date, empty
    if kind != "register":
        allowed = ", ".join(feeds.EVENT_TYPES[kind])
        event_type = _per_value(
            _column(table, "event_type"), lambda v: v.strip().lower(), pa.string()
        )

        def event_type_rule(value: str) -> str | None:
            if not value:
                return "missing event_type"
            if not feeds.is_event_type(kind, value):
                return f"event_type '{value}' is not used in {kind} feeds ({allowed})"
            return None

        event_date, event_date_error = _dates(_column(table, "event_date"), "event_date")
        end_date, end_date_error = _dates(_column(table, "end_date"), "end_date")
        before = pc.fill_null(pc.less(end_date, event_date), False)
        errors += [
            _per_value(event_type, event_type_rule, pa.string()),
            event_date_error,
            pc.if_else(
                pc.and_(pc.is_null(event_date), pc.is_null(event_date_error)),
                "missing event_date",
                pa.scalar(None, pa.string()),
            ),
            end_date_error,
            pc.if_else(
                before,
                pc.binary_join_element_wise(
                    "end_date ",
                    pc.cast(end_date, pa.string()),
                    " is before event_date ",
                    pc.cast(event_date, pa.string()),
                    "",
                ),
                pa.scalar(None, pa.string()),
            ),
        ]
        error_fields += ["event_type", "event_date", "event_date", "end_date", "end_date"]
        for column, allowed_values in feeds.EXTRA_COLUMN_VALUES.get(kind, {}).items():
            cleaned = _per_value(_column(table, column), lambda v: v.strip().lower(), pa.string())
            unknown = pc.and_(
                pc.not_equal(cleaned, ""), pc.invert(pc.is_in(cleaned, pa.array(allowed_values)))
            )
            if column == "role":
                message = pc.binary_join_element_wise(
                    "role '", cleaned, "' is not one of " + ", ".join(allowed_values), ""
                )
                errors.append(pc.if_else(unknown, message, pa.scalar(None, pa.string())))
                error_fields.append(column)
            else:
                warned.append(unknown)
        if kind == "domestic_abuse":
            role = _per_value(
                _column(table, "role"), lambda v: feeds.normalise_role(kind, v) or "", pa.string()
            )
    any_warning = _all(False, table.num_rows)
    for flag in warned:
        any_warning = pc.or_(any_warning, flag)
    checks = pa.table(
        {
            "row_number": table.column("row_number"),
            "sid": sid,
            "own_error": pc.coalesce(*errors),
            "own_field": pc.coalesce(
                *(
                    pc.if_else(pc.is_null(e), pa.scalar(None, pa.string()), f)
                    for e, f in zip(errors, error_fields, strict=True)
                )
            ),
            "raw_sorted": table.column("raw_sorted"),
        }
    )
    con = duckdb.connect()
    con.register("checks", checks)
    # The first good row of an id is kept; every later row with that id is its duplicate.
    verdict = con.sql(
        """
        WITH firsts AS (
            SELECT *, min(CASE WHEN own_error IS NULL AND sid <> '' THEN row_number END)
                OVER (PARTITION BY sid) AS first_good
            FROM checks
        )
        SELECT
            CASE
                WHEN sid = '' THEN 'missing source_record_id'
                WHEN first_good < row_number THEN 'duplicate source_record_id '''
                    || sid || ''' (first seen in row ' || first_good || '; kept that one)'
                ELSE own_error
            END AS reason,
            CASE
                WHEN sid = '' OR first_good < row_number THEN 'source_record_id'
                ELSE coalesce(own_field, '')
            END AS field,
            sha256(raw_sorted) AS row_hash
        FROM firsts ORDER BY row_number
        """
    ).to_arrow_table()
    con.close()
    reason = verdict.column("reason").combine_chunks()
    field_of = verdict.column("field").combine_chunks()
    good_mask = pc.is_null(reason)
    bad_rows = pc.indices_nonzero(pc.invert(good_mask)).to_pylist()
    bad = []
    raw_names = [n for n in table.column_names if n.startswith("raw:")]
    for i in bad_rows:
        raw = {n.removeprefix("raw:"): table.column(n)[i].as_py() for n in raw_names}
        raw_json = json.loads(table.column("raw")[i].as_py())
        if "_extra_cells" in raw_json:
            raw["_extra_cells"] = raw_json["_extra_cells"]
        bad.append(
            BadRow(
                row_number=table.column("row_number")[i].as_py(),
                source_record_id=sid[i].as_py(),
                reason=reason[i].as_py(),
                raw=raw,
                field=field_of[i].as_py(),
            )
        )
    strip = {
        c: _per_value(_column(table, c), _strip, pa.string())
        for c in ("given_name", "family_name", "middle_names", "phone", "email")
    }
    good = pa.table(
        {
            "row_number": table.column("row_number"),
            "source_record_id": sid,
            "raw": table.column("raw"),
            "row_hash": verdict.column("row_hash"),
            **{c: strip[c] for c in ("given_name", "family_name", "middle_names")},
            "date_of_birth": dob,
            "dob_placeholder": pc.fill_null(
                _per_value(dob, standardise.dob_is_placeholder, pa.bool_()), False
            ),
            "sex": sex,
            "nhs_number": nhs,
            "nhs_number_invalid": nhs_invalid,
            "pnc_id": pnc,
            "postcode": postcode,
            "address_line": pc.if_else(nfa, "", address),
            "no_fixed_abode": nfa,
            "phone": strip["phone"],
            "email": strip["email"],
            "event_type": event_type,
            "event_date": event_date,
            "end_date": end_date,
            "role": role,
            "warned": any_warning,
        },
        schema=GOOD_SCHEMA,
    ).filter(good_mask)
    return good, bad
