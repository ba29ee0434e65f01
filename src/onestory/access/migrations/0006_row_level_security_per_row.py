"""Row-level security decided row by row, from indexed lookups (ADR 0022, addendum).

The first policies (``0005``) built the acting organisation's whole set of grants once per
query: every person it has a relationship with, crossed with its sharing decisions. That is
cheap for a charity with a few hundred people and not for a hospital trust whose feed gives
it a service-episode relationship with tens of thousands: 50 ms a query at 61,608
relationships in the load test (``bench/load.py``), however few rows the query reads. The
same rules are now written for one row: does this person have a relationship in force with
the acting organisation, a sharing decision in force that covers this row's category, or a
break glass of this user in force; each an ``EXISTS`` on the person's own rows of
``people_relationship``, ``consent_sharingdecision`` and ``access_breakglass`` (indexed by
person). A query's cost now follows the rows it reads, not the organisation's size.

The rules are those of ``0005`` (SECURITY.md rules 2-8, written again in SQL from
``policy.visible_categories``), and ``tests/test_row_level_security.py`` holds both to the
same truth table. On SQLite this migration does nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.db import migrations

# The categories, roles and tables are those of the first policies.
FIRST = importlib.import_module("onestory.access.migrations.0005_row_level_security")
ALL_CATEGORIES, PEER_MENTOR, TABLES = FIRST.ALL_CATEGORIES, FIRST.PEER_MENTOR, FIRST.TABLES
CASEWORK_ROLES, RECORDING_ROLES, _list = FIRST.CASEWORK_ROLES, FIRST.RECORDING_ROLES, FIRST._list
FULL_RECORD_ROLES = ("navigator", "practitioner", "manager")
BREAK_GLASS_ROLES = ("navigator", "practitioner")


# Small context functions: no sub-queries, so PostgreSQL inlines them into each policy.
FUNCTIONS = """
CREATE OR REPLACE FUNCTION onestory_rls_uid() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT NULLIF(current_setting('onestory.user_id', true), '')::bigint
$$;
CREATE OR REPLACE FUNCTION onestory_rls_role() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN current_setting('onestory.actor', true) = 'user'
    THEN current_setting('onestory.role', true) END
$$;
CREATE OR REPLACE FUNCTION onestory_rls_today() RETURNS date LANGUAGE sql STABLE AS $$
  SELECT coalesce(NULLIF(current_setting('onestory.today', true), '')::date, current_date)
$$;
CREATE OR REPLACE FUNCTION onestory_rls_now() RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT coalesce(NULLIF(current_setting('onestory.now', true), '')::timestamptz, now())
$$;
"""

ORG = "onestory_rls_org()"
ROLE = "onestory_rls_role()"
TODAY = "onestory_rls_today()"
NOW = "onestory_rls_now()"


def _in_force_sharing(person: str, category: str | None = None) -> str:
    covers = f" AND s.categories::jsonb ? ({category})::text" if category else ""
    return (
        f"EXISTS (SELECT 1 FROM consent_sharingdecision s WHERE s.person_id = {person} "
        f"AND s.organisation_id = {ORG} AND s.withdrawn_at IS NULL "
        f"AND s.review_on >= {TODAY}{covers})"
    )


def ordinary_person(person: str) -> str:
    """Rules 2-3: a case-work role whose organisation has a relationship in force with the
    person and a sharing decision in force."""
    return (
        f"({ROLE} IN {_list(CASEWORK_ROLES)} "
        f"AND EXISTS (SELECT 1 FROM people_relationship r WHERE r.person_id = {person} "
        f"AND r.organisation_id = {ORG} AND r.started_on <= {TODAY} "
        f"AND (r.ended_on IS NULL OR r.ended_on > {TODAY})) "
        f"AND {_in_force_sharing(person)})"
    )


def role_may(category: str) -> str:
    """The categories a role may ever read (rule 4)."""
    return (
        f"(CASE WHEN {ROLE} IN {_list(FULL_RECORD_ROLES)} THEN {category} IN "
        f"{_list(ALL_CATEGORIES)} WHEN {ROLE} = 'peer_mentor' THEN {category} IN "
        f"{_list(PEER_MENTOR)} ELSE false END)"
    )


def ordinary(person: str, category: str) -> str:
    """Rule 5: identity with any sharing decision, otherwise the categories it covers."""
    return (
        f"({ordinary_person(person)} AND {role_may(category)} "
        f"AND ({category} = 'identity' OR {_in_force_sharing(person, category)}))"
    )


def glass_person(person: str) -> str:
    """Rule 7: this user's break glass in force, in this organisation and role."""
    return (
        f"({ROLE} IN {_list(BREAK_GLASS_ROLES)} "
        f"AND EXISTS (SELECT 1 FROM access_breakglass b WHERE b.person_id = {person} "
        f"AND b.user_id = onestory_rls_uid() AND b.organisation_id = {ORG} "
        f"AND b.role = {ROLE} AND b.started_at <= {NOW} AND b.expires_at > {NOW} "
        f"AND b.ended_at IS NULL))"
    )


def _rule(person: str, category: str, sealed: str, org: str, *, glass: bool) -> str:
    """Reading (``glass``: break glass counts) or changing one row. Break glass opens only
    a record the organisation could not open otherwise, never a sealed entry, and never a
    change; an entry is changed only by a recording role of the organisation that wrote it
    (rule 8). A restricted person's location is for the owning team alone (rule 6)."""
    seen = ordinary(person, category)
    if glass:
        seen = (
            f"({seen} OR ({glass_person(person)} AND {role_may(category)} "
            f"AND NOT {ordinary_person(person)}))"
        )
    clauses = [seen]
    if sealed != "false":
        clauses.append(f"(NOT {sealed} OR ({org} = {ORG} AND {ordinary_person(person)}))")
    # The person table itself carries the restriction, and identity is never location.
    if not category.startswith("'") or category == "'contact_location'":
        clauses.append(
            f"({category} <> 'contact_location' OR NOT EXISTS (SELECT 1 FROM people_person hp "
            f"WHERE hp.id = {person} AND hp.restricted_location "
            f"AND hp.restricted_owner_id IS DISTINCT FROM {ORG}))"
        )
    if not glass and org != "NULL":
        clauses.append(f"({org} = {ORG} AND {ROLE} IN {_list(RECORDING_ROLES)})")
    return "coalesce(" + " AND ".join(clauses) + ", false)"


def policies_sql(table: str, person: str, category: str, sealed: str, org: str, klass: str) -> str:
    # Every column of the row is named with its table: inside the look-ups, a bare ``id``
    # would be the looked-up table's own.
    def column(name: str) -> str:
        return name if name.startswith("'") or name in ("false", "NULL") else f"{table}.{name}"

    person, category, sealed, org = map(column, (person, category, sealed, org))
    read = _rule(person, category, sealed, org, glass=True)
    change = _rule(person, category, sealed, org, glass=False)
    if table == "people_person":
        # A person merged into someone you may see still answers (with where they moved).
        merged = (
            f"coalesce({table}.merged_into_id IS NOT NULL AND ({ordinary_person(f'{table}.merged_into_id')} "
            f"OR {glass_person(f'{table}.merged_into_id')}), false)"
        )
        read = f"({read} OR {merged})"
    everything = f"onestory_rls_all('{klass}')"
    return f"""
DROP POLICY IF EXISTS onestory_read ON {table};
DROP POLICY IF EXISTS onestory_update ON {table};
DROP POLICY IF EXISTS onestory_delete ON {table};
CREATE POLICY onestory_read ON {table} FOR SELECT USING ({everything} OR {read});
CREATE POLICY onestory_update ON {table} FOR UPDATE
  USING ({everything} OR {change}) WITH CHECK ({everything} OR {change});
CREATE POLICY onestory_delete ON {table} FOR DELETE USING ({everything} OR {change});
"""


# The composite indexes each lookup uses: a person's rows for one organisation.
INDEXES = """
CREATE INDEX IF NOT EXISTS people_relationship_person_org_rls
  ON people_relationship (person_id, organisation_id);
CREATE INDEX IF NOT EXISTS consent_sharingdecision_person_org_rls
  ON consent_sharingdecision (person_id, organisation_id);
"""


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTIONS)
    schema_editor.execute(INDEXES)
    for spec in TABLES:
        schema_editor.execute(policies_sql(*spec))
    # The set-based functions of 0005 are no longer used by any policy.
    schema_editor.execute(
        "DROP FUNCTION IF EXISTS onestory_rls_grants(); "
        "DROP FUNCTION IF EXISTS onestory_rls_contact_hidden();"
    )


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FIRST.FUNCTIONS)
    for spec in TABLES:
        schema_editor.execute(FIRST.policies_sql(*spec))
    schema_editor.execute(
        """
        DROP INDEX IF EXISTS people_relationship_person_org_rls;
        DROP INDEX IF EXISTS consent_sharingdecision_person_org_rls;
        DROP FUNCTION IF EXISTS onestory_rls_uid();
        DROP FUNCTION IF EXISTS onestory_rls_role();
        DROP FUNCTION IF EXISTS onestory_rls_today();
        DROP FUNCTION IF EXISTS onestory_rls_now();
        """
    )


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0005_row_level_security"),
        ("casework", "0003_entry_revision"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
