from typing import Any

from django.apps import AppConfig
from django.core import checks


class CoreConfig(AppConfig):
    name = "onestory.core"
    label = "core"

    def ready(self) -> None:
        # A database check: `check --deploy --database default` (docs/deploy.md).
        checks.register(database_role_check, checks.Tags.database, deploy=True)


def database_role_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``check --deploy --database default``: row-level security binds only a role that is
    neither superuser nor BYPASSRLS (ADR 0022)."""
    from django.db import DatabaseError

    from onestory.core import rls

    try:
        problem = rls.database_role_problem()
    except DatabaseError as error:
        return [checks.Warning(f"could not check the database role: {error}", id="onestory.W022")]
    return [checks.Error(problem, id="onestory.E022")] if problem else []
