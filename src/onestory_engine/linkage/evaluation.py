"""Scoring linkage against a ground truth, and feeding a synthetic city to linkage.

Only tests and benchmarks use this: real partner data has no ground truth.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from math import comb
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from onestory_engine.linkage.prepare import RAW_COLUMNS

if TYPE_CHECKING:
    from onestory_engine.synthetic import City


def record_id_for(source: str, source_record_id: str) -> str:
    """The linkage ``record_id`` of a partner row: ``"source|source_record_id"``."""
    return f"{source}|{source_record_id}"


def city_records(
    city: City, *, sources: tuple[str, ...] | None = None
) -> tuple[Any, dict[str, str]]:
    """Every row of a synthetic city's feeds as a raw linkage table (``record_id`` plus the
    identity columns, as sent) and the ground truth: ``record_id -> true person key``."""
    record_ids: list[str] = []
    truth_keys: list[str] = []
    columns: dict[str, list[str]] = {name: [] for name in RAW_COLUMNS}
    for name, feed in city.feeds.items():
        if sources is not None and name not in sources:
            continue
        positions = {column: i for i, column in enumerate(feed.columns)}
        id_at = positions["source_record_id"]
        wanted = [(column, positions[column]) for column in RAW_COLUMNS]
        for row in feed.rows:
            record_id = record_id_for(name, row[id_at])
            record_ids.append(record_id)
            truth_keys.append(city.truth[(name, row[id_at])])
            for column, at in wanted:
                columns[column].append(row[at])
    table = pa.table(
        {"record_id": pa.array(record_ids, pa.string())}
        | {column: pa.array(values, pa.string()) for column, values in columns.items()}
    )
    return table, dict(zip(record_ids, truth_keys, strict=True))


@dataclass(frozen=True, slots=True)
class PairwiseScores:
    """Pairwise precision, recall and F1 of a clustering against the truth: a pair of
    records counts when both put them together."""

    precision: float
    recall: float
    f1: float
    true_positive_pairs: int
    predicted_pairs: int
    true_pairs: int

    def as_dict(self) -> dict[str, float | int]:
        """For JSON."""
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "true_positive_pairs": self.true_positive_pairs,
            "predicted_pairs": self.predicted_pairs,
            "true_pairs": self.true_pairs,
        }


def pairwise_scores(
    predicted: Mapping[str, Hashable], truth: Mapping[str, Hashable]
) -> PairwiseScores:
    """Score ``predicted`` (record -> cluster) against ``truth`` (record -> true person) over
    the records both hold, counting pairs from cluster sizes (no pair is listed)."""
    common = [r for r in predicted if r in truth]
    cells = Counter((predicted[r], truth[r]) for r in common)
    tp = sum(comb(n, 2) for n in cells.values())
    pp = sum(comb(n, 2) for n in Counter(predicted[r] for r in common).values())
    tt = sum(comb(n, 2) for n in Counter(truth[r] for r in common).values())
    precision = tp / pp if pp else 1.0
    recall = tp / tt if tt else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairwiseScores(precision, recall, f1, tp, pp, tt)
