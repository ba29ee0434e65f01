"""The background worker: existing commands on a schedule (``onestory worker``).

OneStory has no task queue: imports, linking and reports run in the command or request that
asks for them. What does need to happen with nobody asking is housekeeping, so the worker is
a loop that runs existing commands, each as its own process (a crash or a memory spike in
one never takes the loop down), and logs one line per run (docs/adr/0021-deployment.md).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger("onestory.worker")


@dataclass(frozen=True)
class Job:
    name: str
    argv: tuple[str, ...]


ONESTORY = (sys.executable, "-m", "onestory.cli")
DJANGO = (sys.executable, "-m", "django")

# Signed-in sessions are saved on every request; expired ones are removed here.
CLEAR_SESSIONS = Job("clear expired sessions", (*DJANGO, "clearsessions"))
# Detects any edit, deletion or reordering of the audit trail (SECURITY.md rule 11): a
# broken chain is logged as an error for the operator's alerting to pick up.
AUDIT_VERIFY = Job("verify the audit trail", (*ONESTORY, "audit", "verify"))
# Retrains the linkage model on everything received since and relinks every record.
RELINK = Job("relink every record", (*ONESTORY, "link"))


def worker_jobs(*, relink: bool) -> list[Job]:
    """The jobs of one round, in order."""
    return [CLEAR_SESSIONS, AUDIT_VERIFY, *([RELINK] if relink else [])]


def worker_round(
    jobs: Sequence[Job], *, timeout_seconds: float, heartbeat: Path | None = None
) -> bool:
    """Run each job once; True when every one succeeded."""
    ok = True
    for job in jobs:
        if heartbeat is not None:
            heartbeat.touch()
        started = time.monotonic()
        try:
            result = subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
                job.argv, capture_output=True, text=True, timeout=timeout_seconds, check=False
            )
        except subprocess.TimeoutExpired:
            logger.error("job %r timed out after %.0f s", job.name, timeout_seconds)
            ok = False
            continue
        seconds = round(time.monotonic() - started, 1)
        # The commands print counts and event numbers only, never person data; their last
        # line is the summary.
        last = (result.stdout.strip().splitlines() or [""])[-1][:200]
        if result.returncode == 0:
            logger.info("job %r done in %s s: %s", job.name, seconds, last)
        else:
            logger.error(
                "job %r failed (exit %s) in %s s: %s", job.name, result.returncode, seconds, last
            )
            ok = False
    return ok


def worker_run(
    jobs: Sequence[Job],
    *,
    every_seconds: float,
    once: bool,
    timeout_seconds: float,
    heartbeat: Path | None = None,
) -> bool:
    """Run the jobs now and then every ``every_seconds`` (or once); returns the last round's
    success. While waiting, ``heartbeat`` is touched every minute, so a container health
    check can tell a live worker from a stuck one."""
    while True:
        ok = worker_round(jobs, timeout_seconds=timeout_seconds, heartbeat=heartbeat)
        if once:
            return ok
        deadline = time.monotonic() + every_seconds
        while (left := deadline - time.monotonic()) > 0:
            if heartbeat is not None:
                heartbeat.touch()
            time.sleep(min(60.0, left))
