"""PostgreSQL row-level security: the second layer of rule 1 (SECURITY.md, ADR 0022).

``access.scope`` is the first layer: it decides in Python what a user may see. The database
decides again, on its own, with policies on every table of person records (migration
``access.0005``): a query returns only the rows the acting user's organisation may see, however
the query was written. The policies read who is acting from settings of the database session
(``onestory.*``), which this module sets:

- a request sets the signed-in user, role and organisation (``RowLevelSecurityMiddleware``);
- a command, and work the system does on someone's behalf (importing a feed, linking, merging),
  runs as the system (``system()``);
- a few duties need rows beyond one person's record and say so with a **basis**
  (``basis("aggregate")`` for dashboards, ``basis("identity")`` for finding someone,
  ``basis("subject_access")`` for a subject access request, ``basis("retention")`` for a
  retention review); the database checks that the
  acting role may use that basis.

With nothing set, the policies give no rows (fail closed). On SQLite all of this is a no-op:
the first layer alone applies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass

from django.db import DatabaseError, connection
from django.utils import timezone

SETTINGS = ("actor", "user_id", "organisation_id", "role", "basis", "today", "now")

# The bases a role may claim, checked again by the database (``onestory_rls_all``).
BASES = ("aggregate", "identity", "subject_access", "retention")

# Requests in these roles carry their duty's basis throughout (SECURITY.md roles table):
# analysts and board members work only with aggregates; data managers and privacy officers
# find people by their identity (the review queue, subject access and retention).
ROLE_BASIS = {
    "analyst": "aggregate",
    "board_member": "aggregate",
    "data_manager": "identity",
    "privacy_officer": "identity",
}


@dataclass(frozen=True)
class Context:
    actor: str = ""  # "", "user" or "system"
    user_id: int | None = None
    organisation_id: int | None = None
    role: str = ""
    basis: str = ""

    def values(self) -> dict[str, str]:
        now = timezone.now()
        return {
            "actor": self.actor,
            "user_id": "" if self.user_id is None else str(self.user_id),
            "organisation_id": "" if self.organisation_id is None else str(self.organisation_id),
            "role": self.role,
            "basis": self.basis,
            # The policy's "today" and "now" are the application's (TIME_ZONE, and any clock
            # a test sets), not the database server's.
            "today": timezone.localdate(now).isoformat(),
            "now": now.isoformat(),
        }


SYSTEM = Context(actor="system")
NOBODY = Context()


def enabled() -> bool:
    return connection.vendor == "postgresql"


def _read() -> dict[str, str]:
    names = ", ".join(f"current_setting('onestory.{name}', true)" for name in SETTINGS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {names}")
        row = cursor.fetchone()
    return {name: (value or "") for name, value in zip(SETTINGS, row or (), strict=True)}


def _write(values: dict[str, str]) -> None:
    sql = ", ".join(f"set_config('onestory.{name}', %s, false)" for name in SETTINGS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", [values.get(name, "") for name in SETTINGS])


def current() -> dict[str, str]:
    """The settings the policies see now (empty strings where nothing is set)."""
    return _read() if enabled() else dict.fromkeys(SETTINGS, "")


@contextmanager
def _switched(change: Callable[[dict[str, str]], dict[str, str] | None]) -> Iterator[None]:
    """Run the block with the settings ``change`` makes of the current ones (``None``: as
    they are); the settings before it come back afterwards."""
    if not enabled():
        yield
        return
    before = _read()
    after = change(before)
    if after is None:
        yield
        return
    _write(after)
    try:
        yield
    finally:
        # If the transaction failed, rolling it back restores the earlier settings (they were
        # set inside it), and the next request or command sets its own anyway.
        with suppress(DatabaseError):
            _write(before)


def acting(context: Context) -> AbstractContextManager[None]:
    """Run the block as ``context``; the settings before it come back afterwards."""
    return _switched(lambda before: context.values())


def act_for_rest_of_request(context: Context) -> None:
    """Set who is acting without restoring it: only inside a request, whose middleware
    (``acting``) puts the earlier settings back when the response is done. For an API
    token, which is read after the middleware has set "nobody"."""
    if enabled():
        _write(context.values())


@contextmanager
def system() -> Iterator[None]:
    """Work the system does itself: commands, and imports, linking, merges and splits done
    on a data manager's behalf (each still audited under the person who asked)."""
    with acting(SYSTEM):
        yield


@contextmanager
def basis(name: str) -> Iterator[None]:
    """Claim a basis for the block (the database checks the role may use it). Under the
    system the block needs nothing more."""
    if name not in BASES:
        raise ValueError(f"unknown row-level security basis {name!r}")
    with _switched(lambda before: {**before, "basis": name} if before["actor"] == "user" else None):
        yield


APP_ROLE = "onestory_app"
AUDIT_TABLES = ("audit_auditevent", "audit_auditpersonaccess")


def grant_sql(role: str) -> str:
    """What the application role may do: read and write the tables (the policies then
    decide which rows), never change or remove the audit trail. Run by the migration, and
    again by whoever creates the role after migrating (docs/deploy.md). Nothing happens when
    the role does not exist yet."""
    if not role.replace("_", "").isalnum():
        raise ValueError(f"not a role name: {role!r}")
    audit = ", ".join(AUDIT_TABLES)
    return f"""
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
    EXECUTE 'GRANT USAGE ON SCHEMA public TO {role}';
    EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}';
    EXECUTE 'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}';
    EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA public
             GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}';
    EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA public
             GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}';
    EXECUTE 'REVOKE UPDATE, DELETE, TRUNCATE ON {audit} FROM {role}';
  END IF;
END
$$;
"""


def for_user(*, user_id: int, organisation_id: int, role: str) -> Context:
    return Context(
        actor="user",
        user_id=user_id,
        organisation_id=organisation_id,
        role=role,
        basis=ROLE_BASIS.get(role, ""),
    )


def role_problem(*, superuser: bool, bypassrls: bool) -> str | None:
    """Why a database role may not serve the application, or ``None``."""
    if superuser:
        return (
            "the application connects to PostgreSQL as a superuser, which row-level security "
            "does not bind; connect as a role that is neither superuser nor BYPASSRLS "
            f"(a member of {APP_ROLE}; docs/deploy.md)"
        )
    if bypassrls:
        return (
            "the application's PostgreSQL role has BYPASSRLS, so row-level security does not "
            f"bind it; connect as a role without it (a member of {APP_ROLE}; docs/deploy.md)"
        )
    return None


def database_role_problem() -> str | None:
    """The check of the role this connection acts as (PostgreSQL only)."""
    if not enabled():
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    if row is None:
        return "the application's PostgreSQL role could not be read from pg_roles"
    return role_problem(superuser=bool(row[0]), bypassrls=bool(row[1]))
