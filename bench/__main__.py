"""Run every benchmark module in this package (each has a ``main(argv)``)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Run each ``bench/<module>.py`` in name order with ``argv``; non-zero if any fails."""
    status = 0
    here = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        runner = getattr(module, "main", None)
        if runner is None:
            continue
        print(f"::: bench.{info.name}", flush=True)
        status |= int(runner(argv) or 0)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
