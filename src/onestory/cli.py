"""``onestory``: the project's one command (contract: shared/spec/cli.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

app = typer.Typer(
    name="onestory",
    help="OneStory: one linked person index, one team and one story for people facing "
    "severe multiple disadvantage.",
    no_args_is_help=True,
    add_completion=False,
)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

err = Console(stderr=True)
out = Console()


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onestory.settings")
    import django

    django.setup()


def _migrate() -> None:
    """Bring the database up to date. A current one costs a plan check: running ``migrate``
    with nothing to apply still renders every model's state (half a second per command)."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)


@app.command()
def init() -> None:
    """Set up or upgrade the database (idempotent: applies migrations)."""
    _django()
    from onestory.audit.services import audited_command

    _migrate()
    with audited_command("init"):
        pass
    from django.conf import settings

    out.print(f"ok database ready in {settings.DATA_DIR}")


@app.command()
def demo(
    persons: Annotated[int, typer.Option(help="How many people in the synthetic city.")] = 600,
    seed: Annotated[int, typer.Option(help="Random seed for the synthetic city.")] = 20261122,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Build the demo but do not start the web app.")
    ] = False,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
) -> None:
    """Build a synthetic city into the data directory and serve it."""
    _django()
    _migrate()
    from onestory.core.demo import build_demo

    logins_path = build_demo(persons=persons, seed=seed, console=out)
    out.print(f"Demo logins (with TOTP secrets) written to {logins_path}")
    if not no_serve:
        _serve(port)


def _serve(port: int) -> None:
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    out.print(f"Serving OneStory on http://127.0.0.1:{port} (Ctrl+C to stop)")
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)


@app.command()
def serve(port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000) -> None:
    """Serve the web app on http://127.0.0.1:PORT."""
    _django()
    _migrate()
    _serve(port)


@app.command("import")
def import_feed(
    kind: Annotated[
        str,
        typer.Argument(
            help="Feed kind: ed, housing, substance, mental_health, "
            "domestic_abuse, police, probation, prison, register."
        ),
    ],
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (UTF-8 or Windows-1252) or .xlsx file, or a FHIR R4 Bundle (JSON) of "
            "Patient and Encounter resources (docs/fhir.md)."
        ),
    ],
    source: Annotated[str | None, typer.Option(help="Partner source name (default: KIND).")] = None,
    organisation: Annotated[
        str | None, typer.Option(help="Partner organisation that sent it (default: the source).")
    ] = None,
) -> None:
    """Import a partner feed; last line accepted=N updated=N unchanged=N quarantined=N."""
    _django()
    _migrate()
    from onestory.audit.services import audited_command
    from onestory.intake.services import feed_import
    from onestory_engine.intake import FeedRefused

    with audited_command("import") as ctx:
        try:
            with _Progress(f"Importing {file.name}"):
                result = feed_import(
                    actor=ctx.actor,
                    kind=kind,
                    path=file,
                    source_name=source,
                    organisation_name=organisation,
                )
        except FeedRefused as exc:
            ctx.outcome = "refused"
            ctx.add(detail={"refused": str(exc), "file": file.name})
            err.print(f"refused: {exc}", highlight=False, soft_wrap=True)
            refused = True
        else:
            refused = False
    if refused:
        raise typer.Exit(2)
    for bad in result.parsed.bad[:20]:
        label = result.parsed.row_label  # a file's rows, or a FHIR Bundle's entries
        err.print(f"{label} {bad.row_number}: {bad.reason}", highlight=False, soft_wrap=True)
    if len(result.parsed.bad) > 20:
        err.print(f"... and {len(result.parsed.bad) - 20} more quarantined rows", highlight=False)
    print(result.summary)  # noqa: T201 - the contract's last line


class _Progress:
    """A spinner on a terminal; a plain log line otherwise."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.status: Any = None

    def __enter__(self) -> None:
        if err.is_terminal:
            self.status = err.status(self.label)
            self.status.__enter__()
        else:
            err.print(f"{self.label} ...", highlight=False)

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.__exit__(*exc)


@app.command()
def link(
    engine: Annotated[str, typer.Option(help="Linkage backend: duckdb or spark.")] = "duckdb",
) -> None:
    """(Re)train the model and link every record; last line records=N persons=N review=N."""
    if engine not in {"duckdb", "spark"}:
        err.print(f"refused: unknown engine '{engine}': expected duckdb or spark")
        raise typer.Exit(2)
    _django()
    _migrate()
    from onestory.audit.services import audited_command
    from onestory.intake.linking import link_everything

    with audited_command("link") as ctx:
        summary = link_everything(actor=ctx.actor, engine=engine, progress=_say)
    print(summary.line)  # noqa: T201 - the contract's last line


def _say(message: str) -> None:
    err.print(message, highlight=False)


export_app = typer.Typer(
    help="Export the person index, the cohort, the board report or outcome records.",
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")


@export_app.command("links")
def export_links(
    file: Annotated[Path, typer.Argument(help="CSV file to write.")],
) -> None:
    """One row per stored record: source_name, source_record_id, person_id, match_probability."""
    _django()
    _migrate()
    from onestory.audit.services import audited_command
    from onestory.intake.exports import links_write

    with audited_command("export links") as ctx:
        n = links_write(file, actor=ctx.actor)
    err.print(f"wrote {n} records to {file}", highlight=False)


@export_app.command("cohort")
def export_cohort(
    file: Annotated[Path, typer.Argument(help="CSV file to write.")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="As-of date, YYYY-MM-DD (default: today).")
    ] = None,
    months: Annotated[int, typer.Option(help="Window in months before the as-of date.")] = 12,
    min_domains: Annotated[
        int, typer.Option("--min-domains", help="Domains needed to be in the cohort.")
    ] = 3,
) -> None:
    """One row per person: person_id, domains, n_domains, smd, ed_attendances."""
    _django()
    _migrate()
    from datetime import date

    from django.utils import timezone

    from onestory.audit.services import audited_command
    from onestory.intake.exports import cohort_write
    from onestory_engine.cohort import CohortRule

    try:
        day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    except ValueError:
        err.print(f"--as-of '{as_of}' is not a date in the form YYYY-MM-DD", highlight=False)
        raise typer.Exit(2) from None
    if months < 1 or min_domains < 1:
        err.print("--months and --min-domains must be at least 1", highlight=False)
        raise typer.Exit(2)
    rule = CohortRule(as_of=day, months=months, min_domains=min_domains)
    with audited_command("export cohort") as ctx:
        rows, smd = cohort_write(file, actor=ctx.actor, rule=rule)
    err.print(f"wrote {rows} people ({smd} in the SMD cohort) to {file}", highlight=False)


@export_app.command("board-report")
def export_board_report(
    file: Annotated[Path, typer.Argument(help="File to write: .pdf or .xlsx.")],
) -> None:
    """The quarterly board report (small numbers suppressed) as PDF or xlsx."""
    _django()
    _migrate()
    from onestory.audit.services import audited_command
    from onestory.insight.report import board_pdf, board_xlsx

    suffix = file.suffix.lower()
    if suffix not in {".pdf", ".xlsx"}:
        err.print("the board report is written as .pdf or .xlsx", highlight=False)
        raise typer.Exit(2)
    with audited_command("export board-report"):
        file.write_bytes(board_pdf() if suffix == ".pdf" else board_xlsx())
    err.print(f"wrote the board report to {file}", highlight=False)


@export_app.command("evaluator")
def export_evaluator(
    file: Annotated[Path, typer.Argument(help="CSV file to write.")],
    fields: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated fields (default: all). One of: age_band, sex, "
            "gender_same_as_birth, ethnicity, disabled, sexual_orientation, religion, "
            "support_start_month, ndta_first, ndta_latest, ndta_count, "
            "life_satisfaction_first, life_satisfaction_latest, worthwhile_first, "
            "worthwhile_latest, happy_first, happy_latest, anxious_first, anxious_latest, "
            "experience_first, experience_latest, cost_before, cost_year_1, goals_set, "
            "goals_achieved."
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Records as they stood on this day, YYYY-MM-DD (default: today)."
        ),
    ] = None,
) -> None:
    """Per-person outcome records for an external evaluator, pseudonymised (a keyed hash),
    one row per person in one-to-one support: pseudonym, then the fields chosen."""
    _django()
    _migrate()
    from datetime import date

    from django.utils import timezone

    from onestory.audit.services import audited_command
    from onestory.measures import evaluation

    try:
        day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    except ValueError:
        err.print(f"--as-of '{as_of}' is not a date in the form YYYY-MM-DD", highlight=False)
        raise typer.Exit(2) from None
    chosen = (
        [f.strip() for f in fields.split(",") if f.strip()]
        if fields is not None
        else list(evaluation.FIELDS)
    )
    try:
        evaluation.check_fields(chosen)
    except evaluation.UnknownField as exc:
        err.print(f"refused: {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    with audited_command("export evaluator") as ctx:
        body, people = evaluation.evaluation_export(actor=ctx.actor, fields=chosen, as_of=day)
        file.write_text(body, encoding="utf-8")
    err.print(f"wrote {len(people)} people's outcome records to {file}", highlight=False)


@app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Argument(help="The administrator's username.")],
    organisation: Annotated[
        str, typer.Option(help="The organisation they administer for (created if new).")
    ] = "OneStory Partnership Hub",
    email: Annotated[str, typer.Option(help="Their email address.")] = "",
    first_name: Annotated[str, typer.Option(help="Their first name.")] = "",
    last_name: Annotated[str, typer.Option(help="Their last name.")] = "",
) -> None:
    """Create an administrator (the first account of a new deployment). Asks for the
    password; they set up their authenticator app when they first sign in."""
    _django()
    _migrate()
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from onestory.access import services
    from onestory.access.models import Organisation, OrganisationType
    from onestory.access.roles import Role
    from onestory.audit.services import audited_command

    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        validate_password(password)
    except ValidationError as exc:
        err.print("refused: " + " ".join(exc.messages), highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    with audited_command("create-admin") as ctx:
        try:
            with transaction.atomic():
                found = Organisation.objects.filter(name=organisation).first()
                org = found or services.organisation_save(
                    actor=ctx.actor,
                    organisation=Organisation(name=organisation, org_type=OrganisationType.OTHER),
                )
                user = services.user_create(
                    actor=ctx.actor,
                    username=username,
                    first_name=first_name,
                    last_name=last_name,
                    email=email,
                    password=password,
                )
                services.membership_add(
                    actor=ctx.actor, user=user, organisation=org, role=Role.ADMINISTRATOR.value
                )
        except services.AdminError as exc:
            ctx.outcome = "refused"
            err.print(f"refused: {exc}", highlight=False)
            refused = True
        else:
            refused = False
    if refused:
        raise typer.Exit(2)
    out.print(
        f"ok administrator {username} in {org.name}: they set up their authenticator app "
        "when they first sign in",
        highlight=False,
    )


@app.command()
def worker(
    every_hours: Annotated[
        float, typer.Option(help="Hours between rounds of the background jobs.")
    ] = 24,
    once: Annotated[bool, typer.Option("--once", help="Run one round and stop.")] = False,
    relink: Annotated[
        bool, typer.Option("--relink", help="Also retrain and relink every record each round.")
    ] = False,
    timeout_hours: Annotated[float, typer.Option(help="Stop a job running longer.")] = 6,
) -> None:
    """Run the background jobs (expired sessions, audit trail check, optionally relinking)
    now and every EVERY_HOURS; --once runs one round, exit 1 if a job failed."""
    _django()
    _migrate()
    from django.conf import settings

    from onestory.core.worker import worker_jobs, worker_run

    ok = worker_run(
        worker_jobs(relink=relink),
        every_seconds=every_hours * 3600,
        once=once,
        timeout_seconds=timeout_hours * 3600,
        heartbeat=settings.DATA_DIR / "worker.heartbeat",
    )
    raise typer.Exit(0 if ok else 1)


@audit_app.command("verify")
def audit_verify_cmd() -> None:
    """Check the audit trail's hash chain: exit 0 printing ok events=N, else exit 1."""
    _django()
    from onestory.audit.services import audit_verify

    result = audit_verify()
    if result.ok:
        print(f"ok events={result.events}")  # noqa: T201 - the contract's output line
        raise typer.Exit(0)
    print(f"broken at event {result.broken_seq}: {result.reason}")  # noqa: T201
    raise typer.Exit(1)


def main() -> None:
    sys.path.insert(0, str(Path.cwd()))
    app()


if __name__ == "__main__":
    main()
