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
    deps = report["dependencies"]
    skipped = [d for d in deps if d.get("skip_reason")]
    vulnerable = [d for d in deps if d.get("vulns")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed release"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    audited = len(deps) - len(skipped)
    print(f"pip-audit: {audited} of {len(deps)} packages audited, {len(vulnerable)} vulnerable")
    if skipped and not audited:
        print(
            "pip-audit: no vulnerability database could be reached from this machine, so "
            "nothing was audited (run `make audit` where PyPI's JSON API or OSV is reachable)"
        )
    return 1 if vulnerable else 0


if __name__ == "__main__":
    raise SystemExit(main())
