"""Known vulnerabilities in the installed dependencies (pip-audit), for `make lint` and CI.

Fails on any known vulnerability. pip-audit asks PyPI's per-release JSON for advisories; on a
network that cannot reach it every package comes back "not found", and pip-audit would still
say "No known vulnerabilities found". This says plainly how many packages were really audited,
so a check that could not run is never mistaken for a pass.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from importlib import metadata
from typing import Any


def main() -> int:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "--skip-editable",
            "--progress-spinner",
            "off",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(f"pip-audit failed: {result.stderr.strip() or result.stdout.strip()}")
        return 1
    # OneStory itself is not on PyPI: its own code is bandit's to check, not pip-audit's.
    deps = [d for d in report["dependencies"] if d["name"] != "onestory"]
    skipped = [d for d in deps if d.get("skip_reason")]
    vulnerable = [d for d in deps if d.get("vulns")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed release"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    audited = len(deps) - len(skipped)
    print(f"pip-audit: {audited} of {len(deps)} packages audited, {len(vulnerable)} vulnerable")
    if skipped:
        # Where PyPI answers only for a project (not one release), its advisories are those of
        # the latest release: they are ours exactly when we run the latest release.
        latest_audited, latest_vulnerable, behind = _audit_latest(skipped)
        vulnerable += latest_vulnerable
        audited += latest_audited
        print(
            f"PyPI project JSON: {latest_audited} more packages audited (the latest release is "
            f"the one installed), {len(latest_vulnerable)} vulnerable; {len(behind)} not "
            "audited (behind the latest release"
            + (f": {', '.join(behind[:8])}{' …' if len(behind) > 8 else ''})" if behind else ")")
        )
    if skipped and not audited:
        print(
            "pip-audit: no vulnerability database could be reached from this machine, so "
            "nothing was audited (run `make audit` where PyPI's JSON API or OSV is reachable)"
        )
    return 1 if vulnerable else 0


def _audit_latest(deps: list[dict[str, Any]]) -> tuple[int, list[dict[str, Any]], list[str]]:
    audited, vulnerable, behind = 0, [], []
    for dep in deps:
        dep = {**dep, "version": dep.get("version") or metadata.version(dep["name"])}
        url = f"https://pypi.org/pypi/{dep['name']}/json"
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                project = json.load(answer)
        except (OSError, ValueError):
            behind.append(f"{dep['name']} (unreachable)")
            continue
        if project["info"]["version"] != dep["version"]:
            behind.append(f"{dep['name']} {dep['version']}")
            continue
        audited += 1
        for vuln in project.get("vulnerabilities") or []:
            fixes = ", ".join(vuln.get("fixed_in") or []) or "no fixed release"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
            vulnerable.append(dep)
    return audited, vulnerable, behind


if __name__ == "__main__":
    raise SystemExit(main())
