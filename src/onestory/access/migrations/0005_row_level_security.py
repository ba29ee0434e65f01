"""PostgreSQL row-level security on every table of person records (ADR 0022).

Policies are on with FORCE, so they bind the tables' owner too; only a superuser or a role
with BYPASSRLS passes them, and the application must connect as neither (a deploy check
refuses to start otherwise). Who is acting comes from the ``onestory.*`` settings of the
database session (``onestory.core.rls``); with none set, no rows. The application role is
given no UPDATE, DELETE or TRUNCATE on the audit trail.

On SQLite this migration does nothing: ``access.scope`` (the first layer) alone applies.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

ALL_CATEGORIES = (
    "identity", "contact_location", "about_me", "support_plan", "homelessness", "health",
    "mental_health", "substance_misuse", "criminal_justice", "domestic_abuse", "case_notes",
    "safety", "measures",
)  # fmt: skip
PEER_MENTOR = ("identity", "contact_location", "about_me", "support_plan", "safety")
AGGREGATE_ROLES = (
    "navigator", "practitioner", "peer_mentor", "manager", "data_manager", "privacy_officer",
    "analyst", "board_member",
)  # fmt: skip
IDENTITY_ROLES = (
    "navigator", "practitioner", "peer_mentor", "manager", "data_manager", "privacy_officer",
)  # fmt: skip
CASEWORK_ROLES = ("navigator", "practitioner", "peer_mentor", "manager")


def _array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]::text[]"


def _list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION onestory_rls_org() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT NULLIF(current_setting('onestory.organisation_id', true), '')::bigint
$$;

-- Whether the acting context sees every row of a class of table ('identity' or 'record'):
-- the system, or a user whose role may use the basis they claim. Otherwise false.
CREATE OR REPLACE FUNCTION onestory_rls_all(table_class text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(CASE current_setting('onestory.actor', true)
    WHEN 'system' THEN true
    WHEN 'user' THEN CASE current_setting('onestory.basis', true)
      WHEN 'aggregate' THEN current_setting('onestory.role', true) IN {_list(AGGREGATE_ROLES)}
      WHEN 'subject_access' THEN current_setting('onestory.role', true) = 'privacy_officer'
      WHEN 'retention' THEN current_setting('onestory.role', true) = 'privacy_officer'
      WHEN 'identity' THEN table_class = 'identity'
        AND current_setting('onestory.role', true) IN {_list(IDENTITY_ROLES)}
      ELSE false END
    ELSE false END, false)
$$;

-- The (person, category) pairs the acting user may read, and whether only through break
-- glass: SECURITY.md rules 2-5 and 7, written again in SQL from policy.visible_categories.
CREATE OR REPLACE FUNCTION onestory_rls_grants()
RETURNS TABLE(person_id bigint, category text, by_glass boolean) LANGUAGE sql STABLE AS $$
  WITH ctx AS (
    SELECT NULLIF(current_setting('onestory.user_id', true), '')::bigint AS uid,
           onestory_rls_org() AS org,
           current_setting('onestory.role', true) AS role,
           coalesce(NULLIF(current_setting('onestory.today', true), '')::date, current_date)
             AS today,
           coalesce(NULLIF(current_setting('onestory.now', true), '')::timestamptz, now())
             AS now
    WHERE current_setting('onestory.actor', true) = 'user'
  ),
  role_cats AS (
    SELECT c.category FROM ctx CROSS JOIN LATERAL unnest(CASE
      WHEN ctx.role IN ('navigator', 'practitioner', 'manager') THEN {_array(ALL_CATEGORIES)}
      WHEN ctx.role = 'peer_mentor' THEN {_array(PEER_MENTOR)}
      ELSE ARRAY[]::text[] END) AS c(category)
  ),
  related AS (
    SELECT DISTINCT r.person_id FROM people_relationship r JOIN ctx ON r.organisation_id = ctx.org
    WHERE r.started_on <= ctx.today AND (r.ended_on IS NULL OR r.ended_on > ctx.today)
  ),
  shared AS (
    SELECT s.person_id, jsonb_array_elements_text(s.categories::jsonb) AS category
    FROM consent_sharingdecision s JOIN ctx ON s.organisation_id = ctx.org
    WHERE s.withdrawn_at IS NULL AND s.review_on >= ctx.today
  ),
  ordinary AS (
    SELECT r.person_id, rc.category FROM related r CROSS JOIN role_cats rc
    WHERE r.person_id IN (SELECT s.person_id FROM shared s)
      AND (rc.category = 'identity'
           OR (r.person_id, rc.category) IN (SELECT s.person_id, s.category FROM shared s))
  ),
  glass AS (
    SELECT DISTINCT b.person_id, rc.category
    FROM access_breakglass b
    JOIN ctx ON b.user_id = ctx.uid AND b.organisation_id = ctx.org AND b.role = ctx.role
    CROSS JOIN role_cats rc
    WHERE ctx.role IN ('navigator', 'practitioner')
      AND b.started_at <= ctx.now AND b.expires_at > ctx.now AND b.ended_at IS NULL
      AND b.person_id NOT IN (SELECT o.person_id FROM ordinary o)
  )
  SELECT o.person_id, o.category, false FROM ordinary o
  UNION ALL
  SELECT g.person_id, g.category, true FROM glass g
$$;

-- People whose location is restricted to an owning team that is not the acting one (rule 6).
CREATE OR REPLACE FUNCTION onestory_rls_contact_hidden() RETURNS SETOF bigint
LANGUAGE sql STABLE AS $$
  SELECT p.id FROM people_person p
  WHERE p.restricted_location AND p.restricted_owner_id IS DISTINCT FROM onestory_rls_org()
$$;

-- Whether a casework user may add rows (what they add is checked by the first layer).
CREATE OR REPLACE FUNCTION onestory_rls_may_insert() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('onestory.actor', true) = 'user'
    AND current_setting('onestory.role', true) IN {_list(CASEWORK_ROLES)}, false)
$$;
"""

# (table, person column, category expression, sealed expression, organisation column, class)
TABLES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("people_person", "id", "'identity'", "false", "NULL", "identity"),
    ("people_othername", "person_id", "'identity'", "false", "NULL", "identity"),
    ("intake_sourcerecord", "person_id", "'identity'", "false", "NULL", "identity"),
    ("people_aboutme", "person_id", "'about_me'", "false", "NULL", "record"),
    ("people_timelineevent", "person_id", "category", "sealed", "organisation_id", "record"),
    ("casework_contact", "person_id", "'case_notes'", "sealed", "organisation_id", "record"),
    ("casework_supportplan", "person_id", "'support_plan'", "false", "NULL", "record"),
    ("casework_goal", "person_id", "'support_plan'", "false", "NULL", "record"),
    ("casework_safetymarker", "person_id", "'safety'", "false", "NULL", "record"),
    ("measures_completion", "person_id", "'measures'", "false", "NULL", "record"),
)


RECORDING_ROLES = ("navigator", "practitioner", "manager")


def _rule(person: str, category: str, sealed: str, org: str, *, glass: bool) -> str:
    """Reading (``glass``: break glass counts) or changing one row. A change is never by
    break glass, and of an entry only by a recording role of the organisation that wrote it
    (rule 8)."""
    grants = "SELECT g.person_id, g.category FROM onestory_rls_grants() g"
    own = ""
    if not glass:
        grants += " WHERE NOT g.by_glass"
        if org != "NULL":
            own = (
                f"AND {org} = onestory_rls_org() "
                f"AND current_setting('onestory.role', true) IN {_list(RECORDING_ROLES)}"
            )
    return f"""(
      ({person}, {category}) IN ({grants})
      AND (NOT {sealed} OR ({org} = onestory_rls_org() AND {person} IN
           (SELECT g.person_id FROM onestory_rls_grants() g WHERE NOT g.by_glass)))
      AND ({category} <> 'contact_location'
           OR {person} NOT IN (SELECT onestory_rls_contact_hidden()))
      {own}
    )"""


def policies_sql(table: str, person: str, category: str, sealed: str, org: str, klass: str) -> str:
    read = _rule(person, category, sealed, org, glass=True)
    change = _rule(person, category, sealed, org, glass=False)
    if table == "people_person":
        # A person merged into someone you may see still answers (with where they moved).
        merged = "merged_into_id IN (SELECT g.person_id FROM onestory_rls_grants() g)"
        read = f"({read} OR {merged})"
    everything = f"onestory_rls_all('{klass}')"
    return f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS onestory_read ON {table};
DROP POLICY IF EXISTS onestory_insert ON {table};
DROP POLICY IF EXISTS onestory_update ON {table};
DROP POLICY IF EXISTS onestory_delete ON {table};
CREATE POLICY onestory_read ON {table} FOR SELECT USING ({everything} OR {read});
CREATE POLICY onestory_insert ON {table} FOR INSERT
  WITH CHECK ({everything} OR onestory_rls_may_insert());
CREATE POLICY onestory_update ON {table} FOR UPDATE
  USING ({everything} OR {change}) WITH CHECK ({everything} OR {change});
CREATE POLICY onestory_delete ON {table} FOR DELETE USING ({everything} OR {change});
"""


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTIONS)
    for spec in TABLES:
        schema_editor.execute(policies_sql(*spec))
    from onestory.core.rls import APP_ROLE, grant_sql

    schema_editor.execute(grant_sql(APP_ROLE))


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, *_ in TABLES:
        schema_editor.execute(
            f"""
            DROP POLICY IF EXISTS onestory_read ON {table};
            DROP POLICY IF EXISTS onestory_insert ON {table};
            DROP POLICY IF EXISTS onestory_update ON {table};
            DROP POLICY IF EXISTS onestory_delete ON {table};
            ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;
            ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
            """
        )
    schema_editor.execute(
        """
        DROP FUNCTION IF EXISTS onestory_rls_may_insert();
        DROP FUNCTION IF EXISTS onestory_rls_contact_hidden();
        DROP FUNCTION IF EXISTS onestory_rls_grants();
        DROP FUNCTION IF EXISTS onestory_rls_all(text);
        DROP FUNCTION IF EXISTS onestory_rls_org();
        """
    )


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0004_breakglass_privacyreview_and_more"),
        ("people", "0004_relationship_claim_reason"),
        ("casework", "0002_contact_sealed_supportplanversion"),
        ("measures", "0007_staffresponse"),
        ("intake", "0002_initial"),
        ("audit", "0001_initial"),
        ("consent", "0002_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
