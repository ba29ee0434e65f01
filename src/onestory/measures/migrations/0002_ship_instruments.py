"""Ship the NDTA, ONS4, experience and staff confidence questionnaires as data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.db import migrations

INSTRUMENTS = Path(__file__).resolve().parent.parent / "instruments"


def load(apps: Any, schema_editor: Any) -> None:
    instrument = apps.get_model("measures", "Instrument")
    for path in sorted(INSTRUMENTS.glob("*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        instrument.objects.update_or_create(
            code=definition["code"],
            version=definition["version"],
            defaults={"name": definition["name"], "definition": definition, "active": True},
        )


class Migration(migrations.Migration):
    dependencies = [("measures", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
