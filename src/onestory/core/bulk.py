"""Writing many rows fast: plain parameterised SQL instead of the ORM's per-object path.

Only table and column names from model metadata are put into the SQL text; every value
travels as a parameter.

Django's ``bulk_create`` compiles every value of every object, and ``bulk_update`` builds
one ``CASE WHEN`` per object and field, which grows worse than linearly: on 100,000 linked
records it spent minutes where the database needs a second. These helpers keep the ORM's
field conversion (``get_db_prep_save``) and table names, and send rows with
``executemany``; an update goes through a temporary table and one ``UPDATE … FROM``
(SQLite 3.33+ and PostgreSQL). Both run inside the caller's transaction.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from django.core.exceptions import EmptyResultSet
from django.db import connection, models
from django.utils import timezone

CHUNK = 5000


def _fields(model: type[models.Model], names: Sequence[str]) -> list[models.Field[Any, Any]]:
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    return [by_attname[name] for name in names]


def _column(field: models.Field[Any, Any]) -> str:
    assert field.column is not None, field
    return connection.ops.quote_name(field.column)


def _prepare(fields: list[models.Field[Any, Any]], row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True))


def insert_rows(
    model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert ``rows`` (values in the order of ``names``, attribute names such as
    ``person_id``) into ``model``'s table. Returns the number of rows inserted."""
    fields = _fields(model, names)
    qn = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (names from model metadata)
        qn(model._meta.db_table),
        ", ".join(_column(f) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    count = 0
    iterator = iter(rows)
    with connection.cursor() as cursor:
        while chunk := list(itertools.islice(iterator, CHUNK)):
            cursor.executemany(sql, [_prepare(fields, row) for row in chunk])
            count += len(chunk)
    return count


def update_rows(
    model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Set ``names[1:]`` on the rows whose primary key is the first value of each row.

    The first name must be the primary key (``"id"``). Returns the number of rows sent.
    """
    meta = model._meta
    assert meta.pk is not None
    assert names[0] in (meta.pk.attname, "pk"), names
    fields = [meta.pk, *_fields(model, names[1:])]
    qn = connection.ops.quote_name
    temp = qn(f"bulk_{meta.db_table}")
    table = qn(meta.db_table)
    key = _column(meta.pk)
    columns = [qn(f"c{i}") for i in range(len(fields))]
    types = [
        f.rel_db_type(connection) if f.is_relation or f is meta.pk else f.db_type(connection)
        for f in fields
    ]
    assignments = ", ".join(
        f"{_column(f)} = t.{column}" for f, column in zip(fields[1:], columns[1:], strict=True)
    )
    count = 0
    iterator = iter(rows)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {temp}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temp} ("
            + ", ".join(f"{c} {t}" for c, t in zip(columns, types, strict=True))
            + ")"
        )
        insert = f"INSERT INTO {temp} VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
        while chunk := list(itertools.islice(iterator, CHUNK)):
            cursor.executemany(insert, [_prepare(fields, row) for row in chunk])
            count += len(chunk)
        if count:
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM {temp} AS t "  # noqa: S608
                f"WHERE {table}.{key} = t.c0"
            )
        cursor.execute(f"DROP TABLE {temp}")
    return count


def delete_where(model: type[models.Model], name: str, values: Sequence[Any]) -> int:
    """Delete the rows whose ``name`` is one of ``values`` in one statement, without the
    ORM's collector (callers deal with anything that refers to those rows first)."""
    field = _fields(model, [name])[0]
    table = connection.ops.quote_name(model._meta.db_table)
    marks = ", ".join(["%s"] * len(values))
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE {_column(field)} IN ({marks})",  # noqa: S608
            [field.get_db_prep_value(v, connection) for v in values],
        )
        return int(cursor.rowcount)


# ---------------------------------------------------------------------------------------------
# Whole Arrow tables (ADR 0017): no Python conversion per value
# ---------------------------------------------------------------------------------------------

ARROW_CHUNK = 50_000
# Rows fetched at a time into Arrow columns, so a million never sit in memory as tuples.
SELECT_BATCH = 100_000


def _arrow_columns(
    model: type[models.Model], table: pa.Table, constants: Mapping[str, Any]
) -> tuple[list[models.Field[Any, Any]], pa.Table]:
    """The fields and a table of database-ready columns: ``table``'s own (named by attribute
    name; dates, booleans, numbers, strings, JSON as text) then one per constant, each
    constant converted once by its field as the ORM would."""
    fields = _fields(model, [*table.column_names, *constants])
    own = len(table.column_names)
    for i, (name, value) in enumerate(constants.items()):
        field = fields[own + i]
        prepared = field.get_db_prep_save(value, connection)
        if connection.vendor == "postgresql" and hasattr(prepared, "isoformat"):
            prepared = prepared.isoformat()
        elif connection.vendor == "postgresql" and prepared is not None:
            prepared = str(prepared)
        table = table.append_column(
            f"const:{name}", pa.array([prepared] * table.num_rows, _arrow_type(prepared))
        )
    if connection.vendor == "sqlite":
        # SQLite stores dates as ISO text and booleans as 0/1, as Django's adapters do.
        for i, column in enumerate(table.columns):
            if pa.types.is_date(column.type):
                table = table.set_column(i, table.field(i).name, pc.cast(column, pa.string()))
    return fields, table


def _arrow_type(value: object) -> pa.DataType:
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64()
    return pa.string()


def _write_table(cursor: Any, db_table: str, columns: list[str], table: pa.Table) -> None:
    """Send every row of ``table`` into ``db_table`` (its columns in order)."""
    qn = connection.ops.quote_name
    names = ", ".join(columns)
    if connection.vendor == "postgresql":
        # COPY in CSV: a quoted "" is an empty string, an empty unquoted value is NULL.
        sql = f"COPY {qn(db_table)} ({names}) FROM STDIN WITH (FORMAT csv)"
        with cursor.cursor.copy(sql) as copy:
            for batch in table.to_batches(max_chunksize=ARROW_CHUNK):
                buffer = io.BytesIO()
                pa_csv.write_csv(
                    batch, buffer, pa_csv.WriteOptions(include_header=False, quoting_style="needed")
                )
                copy.write(buffer.getvalue())
        return
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (names from model metadata)
        qn(db_table), names, ", ".join(["%s"] * len(columns))
    )
    # SQLite's default page cache is 2 MB: a million rows' index pages then go back and
    # forth to the operating system. 128 MB for this connection (freed with it).
    cursor.execute("PRAGMA cache_size = -131072")
    for batch in table.to_batches(max_chunksize=ARROW_CHUNK):
        cursor.executemany(sql, list(zip(*(c.to_pylist() for c in batch.columns), strict=True)))


def insert_table(
    model: type[models.Model], table: pa.Table, constants: Mapping[str, Any] | None = None
) -> int:
    """Insert every row of ``table`` (columns named by attribute name, e.g. ``person_id``)
    with ``constants`` (attribute name -> one value for every row) into ``model``'s table,
    column by column rather than value by value. Returns the number of rows inserted."""
    if table.num_rows == 0:
        return 0
    fields, ready = _arrow_columns(model, table, constants or {})
    columns = [_column(f) for f in fields]
    with connection.cursor() as cursor:
        if not _has_row_security(cursor, model._meta.db_table):
            _write_table(cursor, model._meta.db_table, columns, ready)
            return int(table.num_rows)
        # PostgreSQL refuses COPY into a table with row-level security (ADR 0022): COPY into
        # a temporary table, then one INSERT … SELECT, which the policies check.
        types = [f.rel_db_type(connection) if f.is_relation else f.db_type(connection)
                 for f in fields]  # fmt: skip
        names = ", ".join(columns)
        target = connection.ops.quote_name(model._meta.db_table)
        with _staged(cursor, f"bulk_new_{model._meta.db_table}", columns, types, ready) as temp:
            cursor.execute(f"INSERT INTO {target} ({names}) SELECT {names} FROM {temp}")  # noqa: S608
    return int(table.num_rows)


@contextmanager
def _staged(
    cursor: Any, name: str, columns: list[str], types: list[str | None], table: pa.Table
) -> Iterator[str]:
    """``table`` in a temporary table of these columns and types, for one statement that
    reads it (the quoted name is yielded); dropped afterwards."""
    temp = connection.ops.quote_name(name)
    cursor.execute(f"DROP TABLE IF EXISTS {temp}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {temp} ("
        + ", ".join(f"{c} {t}" for c, t in zip(columns, types, strict=True))
        + ")"
    )
    _write_table(cursor, name, columns, table)
    yield temp
    cursor.execute(f"DROP TABLE {temp}")


_row_security: dict[tuple[str, str], bool] = {}


def _has_row_security(cursor: Any, db_table: str) -> bool:
    """Whether PostgreSQL applies row-level security to ``db_table`` (cached per database)."""
    if connection.vendor != "postgresql":
        return False
    key = (str(connection.settings_dict.get("NAME")), db_table)
    if key not in _row_security:
        cursor.execute(
            "SELECT relrowsecurity FROM pg_class WHERE oid = to_regclass(%s)", [db_table]
        )
        row = cursor.fetchone()
        _row_security[key] = bool(row and row[0])
    return _row_security[key]


def update_table(
    model: type[models.Model], table: pa.Table, constants: Mapping[str, Any] | None = None
) -> int:
    """Set the other columns of ``table`` (and ``constants``) on the rows whose primary key
    is its first column (``id``): the table goes into a temporary table, then one
    ``UPDATE … FROM``. Returns the number of rows sent."""
    if table.num_rows == 0:
        return 0
    meta = model._meta
    assert meta.pk is not None
    assert table.column_names[0] in (meta.pk.attname, "id"), table.column_names
    fields, ready = _arrow_columns(model, table, constants or {})
    fields[0] = meta.pk
    target = connection.ops.quote_name(meta.db_table)
    columns = [f"c{i}" for i in range(len(fields))]
    types = [
        f.rel_db_type(connection) if f.is_relation or f is meta.pk else f.db_type(connection)
        for f in fields
    ]
    assignments = ", ".join(
        f"{_column(f)} = t.{c}" for f, c in zip(fields[1:], columns[1:], strict=True)
    )
    with (
        connection.cursor() as cursor,
        _staged(cursor, f"bulk_{meta.db_table}", columns, types, ready) as temp,
    ):
        cursor.execute(
            f"UPDATE {target} SET {assignments} FROM {temp} AS t "  # noqa: S608
            f"WHERE {target}.{_column(meta.pk)} = t.c0"
        )
    return int(table.num_rows)


def select_table(
    query: models.QuerySet[Any],
    names: Sequence[str],
    types: Mapping[str, pa.DataType] | None = None,
) -> pa.Table:
    """A ``values_list`` query's rows as an Arrow table with columns ``names``, fetched in
    batches straight into columns instead of through the ORM's per-row path (no field
    converters: ``types`` casts, e.g. dates, which SQLite returns as ISO text)."""
    types = types or {}

    def batch(rows: Sequence[tuple[Any, ...]]) -> pa.Table:
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
        arrays = {}
        for name, values in zip(names, columns, strict=True):
            type_ = types.get(name)
            if type_ is not None and (pa.types.is_date(type_) or pa.types.is_boolean(type_)):
                # SQLite returns dates as text and booleans as 0/1.
                array = pa.array(list(values))
                arrays[name] = array.cast(type_) if array.type != type_ else array
            else:
                arrays[name] = pa.array(list(values), type_)
        return pa.table(arrays)

    try:
        sql, params = query.query.sql_with_params()
    except EmptyResultSet:  # e.g. ``pk__in=[]``
        return batch([])
    tables = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(SELECT_BATCH):
            tables.append(batch(rows))
            del rows
    if not tables:
        return batch([])
    if len(tables) > 1 and any(t.schema != tables[0].schema for t in tables):
        # A batch whose column was all NULL has the null type: unify.
        return pa.concat_tables(tables, promote_options="permissive")
    return pa.concat_tables(tables)


def new_rows(model: type[models.Model], count: int) -> list[int]:
    """Create ``count`` rows of ``model`` with every field at its default, in bulk; their
    primary keys, in order. The keys are reserved first (the sequence on PostgreSQL; on
    SQLite past the largest ever used, under the transaction's write lock)."""
    if count <= 0:
        return []
    meta = model._meta
    assert meta.pk is not None
    qn = connection.ops.quote_name
    table, key = meta.db_table, _column(meta.pk)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, meta.pk.column, count],
            )
            keys = sorted(int(row[0]) for row in cursor.fetchall())
        else:
            cursor.execute(f"SELECT coalesce(max({key}), 0) FROM {qn(table)}")  # noqa: S608
            largest = int(cursor.fetchall()[0][0])
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            used = cursor.fetchall()
            start = max(largest, int(used[0][0]) if used else 0) + 1
            keys = list(range(start, start + count))
    now = timezone.now()
    defaults: dict[str, Any] = {}
    for field in meta.concrete_fields:
        if field.primary_key or field.null:
            continue
        auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        defaults[field.attname] = now if auto else field.get_default()
    insert_table(model, pa.table({meta.pk.attname: pa.array(keys, pa.int64())}), defaults)
    return keys
