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

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models

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
