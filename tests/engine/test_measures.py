"""Questionnaires as data: scoring checked against hand-worked examples (issue 8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onestory_engine.measures import InstrumentError, change, instrument_from, score

INSTRUMENTS = Path(__file__).parents[2] / "src" / "onestory" / "measures" / "instruments"


def _load(code: str):  # type: ignore[no-untyped-def]
    return instrument_from(json.loads((INSTRUMENTS / f"{code}.json").read_text()))


def test_ndta_total_with_its_two_double_weighted_items() -> None:
    ndta = _load("ndta")
    assert ndta.total_range == (0, 48) and ndta.lower_is_better
    # Hand-worked: 3 + 1 + 2 + (2 x 2) + (3 x 2) + 4 + 2 + 4 + 3 + 4 = 33.
    answers = {
        "engagement": 3, "intentional_self_harm": 1, "unintentional_self_harm": 2,
        "risk_to_others": 2, "risk_from_others": 3, "stress_anxiety": 4,
        "social_effectiveness": 2, "alcohol_drugs": 4, "impulse_control": 3, "housing": 4,
    }  # fmt: skip
    result = score(ndta, answers)
    assert result.total == 33 and result.complete
    # Everything at its worst: 8 x 4 + 2 x 8 = 48; at its best, 0.
    assert score(ndta, dict.fromkeys(answers, 4)).total == 48
    assert score(ndta, dict.fromkeys(answers, 0)).total == 0
    # Six months later: 1+0+1+(1x2)+(1x2)+2+1+2+1+1 = 13, an improvement of 20.
    later = {
        "engagement": 1, "intentional_self_harm": 0, "unintentional_self_harm": 1,
        "risk_to_others": 1, "risk_from_others": 1, "stress_anxiety": 2,
        "social_effectiveness": 1, "alcohol_drugs": 2, "impulse_control": 1, "housing": 1,
    }  # fmt: skip
    assert score(ndta, later).total == 13
    assert change(33, 13, lower_is_better=True) == 20


def test_an_incomplete_ndta_has_no_total() -> None:
    ndta = _load("ndta")
    result = score(ndta, {"engagement": 3, "housing": 4})
    assert result.total is None and not result.complete
    assert "risk_to_others" in result.missing and len(result.missing) == 8


def test_ons4_items_stand_alone_and_anxiety_is_lower_is_better() -> None:
    ons4 = _load("ons4")
    result = score(
        ons4,
        {"life_satisfaction": 4, "worthwhile": 6, "happy_yesterday": 5, "anxious_yesterday": 8},
    )
    assert result.total is None  # ONS4 is never summed
    assert result.subscores == {
        "life_satisfaction": 4, "worthwhile": 6, "happy_yesterday": 5, "anxious_yesterday": 8
    }  # fmt: skip
    anxious = next(i for i in ons4.items if i.key == "anxious_yesterday")
    assert anxious.higher_is_better is False
    assert change(8, 3, lower_is_better=True) == 5  # less anxious: better


def test_a_missing_item_is_pro_rated_where_the_instrument_allows_it() -> None:
    experience = _load("experience")
    # Two of three answered, 4 and 5: mean 4.5 x 3 items = 13.5.
    result = score(experience, {"involved": 4, "help_when_needed": 5})
    assert result.total == 13.5 and not result.complete
    assert score(experience, {"involved": 4}).total is None  # two missing: too many


def test_reverse_scored_and_weighted_items_pro_rate_by_weight() -> None:
    definition = {
        "code": "t", "version": 1, "name": "T", "max_missing": 1,
        "items": [
            {"key": "a", "text": "A", "scale": [[1, "1"], [2, "2"], [3, "3"]], "reverse": True},
            {"key": "b", "text": "B", "scale": [[0, "0"], [1, "1"], [2, "2"]], "weight": 2},
            {"key": "c", "text": "C", "scale": [[0, "0"], [1, "1"]]},
        ],
    }  # fmt: skip
    instrument = instrument_from(definition)
    # a=1 reversed to 3; b=2 weighted to 4; c=1 -> 8.
    assert score(instrument, {"a": 1, "b": 2, "c": 1}).total == 8
    # c missing: a scores 3 (per weight 3), b scores 4 (per weight 2): mean 2.5 x weights 4.
    assert score(instrument, {"a": 1, "b": 2}).total == 10.0


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"engagement": 9}, "9 is not on the scale"),
        ({"nonsense": 1}, "no such item: nonsense"),
    ],
)
def test_answers_off_the_scale_are_refused(answers: dict[str, int], message: str) -> None:
    with pytest.raises(InstrumentError, match=message):
        score(_load("ndta"), answers)


def test_a_definition_that_does_not_add_up_is_refused() -> None:
    definition = json.loads((INSTRUMENTS / "ndta.json").read_text())
    definition["total"]["max"] = 40
    with pytest.raises(InstrumentError, match="items give totals 0-48, not 0-40"):
        instrument_from(definition)
    definition["items"][1]["key"] = "engagement"
    with pytest.raises(InstrumentError, match="unique"):
        instrument_from(definition)
