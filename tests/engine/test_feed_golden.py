"""The columnar importer gives exactly what the row-by-row importer gave (ADR 0017): the
same refusals, the same good rows with the same stored values and row hashes (so a feed
imported before is still "unchanged"), and the same quarantined rows, numbers and reasons.
Both CSV readers (Arrow's and Python's csv module) give the same cells on every file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from onestory_engine import intake
from onestory_engine.intake import FeedRefused, read_feed
from tests.engine.feed_corpus import corpus

GOLDEN = Path(__file__).parent.parent / "data" / "feed_golden.json"


def _snapshot(kind: str, path: Path, name: str) -> dict[str, Any]:
    try:
        parsed = read_feed(path, kind)
    except FeedRefused as exc:
        return {"file": name, "kind": kind, "refused": str(exc)}
    good = []
    for row in parsed.good.to_pylist():
        row["raw"] = json.loads(row["raw"])
        row["has_warning"] = row.pop("warned")
        for key in ("date_of_birth", "event_date", "end_date"):
            row[key] = row[key].isoformat() if row[key] else None
        for key, limit in intake_limits().items():
            row[key] = row[key][:limit]
        good.append(row)
    return {
        "file": name,
        "kind": kind,
        "encoding": parsed.encoding,
        "columns": list(parsed.columns),
        "good": good,
        "bad": [
            {"row_number": b.row_number, "source_record_id": b.source_record_id,
             "reason": b.reason, "raw": b.raw}
            for b in parsed.bad
        ],
    }  # fmt: skip


def intake_limits() -> dict[str, int]:
    # The stored lengths (the model's max_length), applied when rows are stored.
    return {"given_name": 200, "family_name": 200, "middle_names": 200, "address_line": 300,
            "phone": 60, "email": 200}  # fmt: skip


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Path, str]]:
    root = tmp_path_factory.mktemp("corpus")
    return [(kind, path, str(path.relative_to(root))) for kind, path in corpus(root)]


def test_every_corpus_file_gives_what_the_row_by_row_importer_gave(
    files: list[tuple[str, Path, str]],
) -> None:
    golden = {g["file"]: g for g in json.loads(GOLDEN.read_text())}
    assert sorted(golden) == sorted(name for _, _, name in files)
    for kind, path, name in files:
        ours = _snapshot(kind, path, name)
        theirs = golden[name]
        if "refused" in theirs or "refused" in ours:
            assert ours == theirs, name
            continue
        assert ours["columns"] == theirs["columns"], name
        assert ours["encoding"] == theirs["encoding"], name
        assert ours["bad"] == theirs["bad"], name
        assert len(ours["good"]) == len(theirs["good"]), name
        for a, b in zip(ours["good"], theirs["good"], strict=True):
            assert a == b, (name, a["row_number"])


def test_both_csv_readers_give_the_same_cells(files: list[tuple[str, Path, str]]) -> None:
    fast_files = 0
    for _kind, path, name in files:
        if path.suffix == ".xlsx":
            continue
        data = path.read_bytes()
        try:
            slow = intake.python_cells(path.name, data)
        except FeedRefused:
            continue
        fast = intake._arrow_cells(path.name, data)
        if fast is None:
            continue  # read by the csv module alone
        fast_files += 1
        assert fast.header == slow.header, name
        assert fast.rows == slow.rows, name
        assert [c.to_pylist() for c in fast.columns] == [c.to_pylist() for c in slow.columns]
        assert fast.extra == slow.extra == {}, name
        assert fast.encoding == slow.encoding, name
    assert fast_files >= 15  # the city's feeds and most bad-input files take the fast path
