"""The questionnaires, unit costs and uprating index OneStory ships as data (JSON files
beside this module). Migrations load them; these functions put back any that are missing
(a database emptied by hand or by a test keeps working)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from onestory.measures.models import Instrument, UnitCost, UpratingIndex

HERE = Path(__file__).resolve().parent


def ensure_instruments() -> None:
    for path in sorted((HERE / "instruments").glob("*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        Instrument.objects.get_or_create(
            code=definition["code"],
            version=definition["version"],
            defaults={"name": definition["name"], "definition": definition, "active": True},
        )


def ensure_costs() -> None:
    if UnitCost.objects.exists() and UpratingIndex.objects.exists():
        return
    units = json.loads((HERE / "costs" / "unit_costs.json").read_text(encoding="utf-8"))
    for row in units["units"]:
        UnitCost.objects.get_or_create(
            key=row["key"],
            defaults={
                "label": row["label"],
                "amount": Decimal(row["amount"]),
                "price_year": row["price_year"],
                "per": row["per"],
                "source": units["source"][:300],
            },
        )
    uprating = json.loads((HERE / "costs" / "uprating.json").read_text(encoding="utf-8"))
    for year, value in uprating["index"].items():
        UpratingIndex.objects.get_or_create(
            year=year,
            defaults={
                "value": Decimal(value),
                "source": uprating["source"][:300],
                "reporting_year": year == uprating["reporting_year"],
            },
        )
