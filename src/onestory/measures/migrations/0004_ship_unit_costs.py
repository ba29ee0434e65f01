"""Ship DOMAIN.md's unit costs and an uprating index as editable data."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import migrations

COSTS = Path(__file__).resolve().parent.parent / "costs"


def load(apps: Any, schema_editor: Any) -> None:
    unit_cost = apps.get_model("measures", "UnitCost")
    index = apps.get_model("measures", "UpratingIndex")
    units = json.loads((COSTS / "unit_costs.json").read_text(encoding="utf-8"))
    for row in units["units"]:
        unit_cost.objects.update_or_create(
            key=row["key"],
            defaults={
                "label": row["label"],
                "amount": Decimal(row["amount"]),
                "price_year": row["price_year"],
                "per": row["per"],
                "source": units["source"][:300],
            },
        )
    uprating = json.loads((COSTS / "uprating.json").read_text(encoding="utf-8"))
    for year, value in uprating["index"].items():
        index.objects.update_or_create(
            year=year,
            defaults={
                "value": Decimal(value),
                "source": uprating["source"][:300],
                "reporting_year": year == uprating["reporting_year"],
            },
        )


class Migration(migrations.Migration):
    dependencies = [("measures", "0003_unitcost_upratingindex")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
