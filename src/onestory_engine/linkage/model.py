"""What linkage compares and how it blocks, and the trained model that carries it.

The comparisons are written once with Splink's level creators, which produce each backend's
own SQL (DuckDB's ``jaro_winkler_similarity`` is Spark's ``jaro_winkler`` from Splink's jar).
A trained model keeps Splink's saved model JSON; to run it on another backend the settings
are written again for that backend and the trained parameters copied in level by level, so
DuckDB and Spark score with exactly the same numbers.
"""

from __future__ import annotations

import json
from copy import deepcopy
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator
from splink.blocking_rule_library import CustomRule

if TYPE_CHECKING:
    from splink.internals.comparison_level_creator import ComparisonLevelCreator

MODEL_FORMAT: Final = "onestory-linkage/1"
"""Written into every saved model; a model of another format is refused, not misread."""

UNIQUE_ID: Final = "record_id"
SAME_GIVEN_OTHER_FAMILY: Final = "Same given name, different family name"
SAME_FAMILY_OTHER_GIVEN: Final = "Same family name, different given name"


class ModelMismatch(ValueError):
    """A saved model whose comparisons are not the ones this code defines."""


def _given_close() -> list[ComparisonLevelCreator]:
    # Nicknames, spelling (Jaro-Winkler) and one slip of the keyboard: Jaro-Winkler alone
    # misses a typo in a short name ("nnil" for "neil").
    return [
        cll.ExactMatchLevel("given_canon"),
        cll.JaroWinklerLevel("given", 0.88),
        cll.LevenshteinLevel("given", 1),
    ]


def _name() -> cl.CustomComparison:
    """Given and family name as one comparison, so that their agreements are not counted
    twice (a swapped name is one piece of evidence, not two) and the pattern of twins and
    siblings (same family name, different given name) has a weight of its own."""
    initial = (
        "substr(given_l, 1, 1) = substr(given_r, 1, 1) "
        "AND (length(given_l) = 1 OR length(given_r) = 1)"
    )
    return cl.CustomComparison(
        output_column_name="name",
        comparison_description="Given and family name: exact, swapped, nickname, similar "
        "spelling, one part of a double-barrelled name, one of the two changed or missing",
        comparison_levels=[
            cll.CustomLevel(
                "(given_l IS NULL AND family_joined_l IS NULL) "
                "OR (given_r IS NULL AND family_joined_r IS NULL)",
                label_for_charts="No name",
            ).configure(is_null_level=True),
            cll.ExactMatchLevel("full_name", term_frequency_adjustments=True).configure(
                label_for_charts="Same given and family name"
            ),
            cll.ColumnsReversedLevel("given", "family", symmetrical=True).configure(
                label_for_charts="Given and family names swapped"
            ),
            cll.And(
                cll.ExactMatchLevel("given_canon"), cll.ExactMatchLevel("family_joined")
            ).configure(label_for_charts="Same family name, given name a nickname"),
            cll.And(
                cll.Or(*_given_close(), cll.CustomLevel(initial)),
                cll.Or(
                    cll.ExactMatchLevel("family_joined"),
                    cll.JaroWinklerLevel("family_joined", 0.88),
                    cll.ArrayIntersectLevel("family_tokens", 1),
                ),
            ).configure(label_for_charts="Similar given and family names"),
            cll.And(
                cll.Or(
                    cll.ExactMatchLevel("family_joined"),
                    cll.JaroWinklerLevel("family_joined", 0.88),
                ),
                cll.CustomLevel("given_l IS NULL OR given_r IS NULL"),
            ).configure(label_for_charts="Same family name, one given name missing"),
            cll.And(
                cll.Or(*_given_close()),
                cll.CustomLevel("family_joined_l IS NULL OR family_joined_r IS NULL"),
            ).configure(label_for_charts="Same given name, one family name missing"),
            cll.Or(*_given_close()).configure(label_for_charts=SAME_GIVEN_OTHER_FAMILY),
            cll.Or(
                cll.ExactMatchLevel("family_joined"),
                cll.JaroWinklerLevel("family_joined", 0.88),
                cll.ArrayIntersectLevel("family_tokens", 1),
            ).configure(label_for_charts=SAME_FAMILY_OTHER_GIVEN),
            cll.ElseLevel(),
        ],
    )


def _date_of_birth() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="date_of_birth",
        comparison_description="Date of birth: 1 January placeholder, exact, day and month "
        "transposed, one digit off, same year",
        comparison_levels=[
            cll.NullLevel("dob"),
            # Either side 1 January with the same year: systems type that when only the year
            # is known, so it is weak evidence whichever way it falls.
            cll.CustomLevel(
                "(dob_placeholder_l OR dob_placeholder_r) AND dob_year_l = dob_year_r",
                label_for_charts="1 January placeholder, same year",
            ),
            cll.ExactMatchLevel("dob"),
            cll.CustomLevel("dob_l = dob_transposed_r", label_for_charts="Day and month swapped"),
            cll.LevenshteinLevel("dob", 1).configure(label_for_charts="One digit different"),
            cll.ExactMatchLevel("dob_year").configure(label_for_charts="Same year"),
            cll.ElseLevel(),
        ],
    )


def _exact(column: str, output: str, description: str) -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name=output,
        comparison_description=description,
        comparison_levels=[cll.NullLevel(column), cll.ExactMatchLevel(column), cll.ElseLevel()],
    )


def _address() -> cl.CustomComparison:
    both_missing = (
        "(postcode_l IS NULL AND address_l IS NULL) OR (postcode_r IS NULL AND address_r IS NULL)"
    )
    return cl.CustomComparison(
        output_column_name="address",
        comparison_description="Postcode and address line (no fixed abode counts as missing)",
        comparison_levels=[
            cll.CustomLevel(both_missing, label_for_charts="No address").configure(
                is_null_level=True
            ),
            cll.And(cll.ExactMatchLevel("postcode"), cll.ExactMatchLevel("address")).configure(
                label_for_charts="Same address and postcode"
            ),
            cll.ExactMatchLevel("postcode").configure(label_for_charts="Same postcode"),
            cll.ExactMatchLevel("address").configure(label_for_charts="Same address line"),
            cll.ExactMatchLevel("postcode_outward").configure(
                label_for_charts="Same postcode district"
            ),
            cll.ElseLevel(),
        ],
    )


def comparisons() -> list[cl.CustomComparison]:
    """The comparisons of the OneStory model, in a fixed order (saved models rely on it)."""
    return [
        _name(),
        _date_of_birth(),
        _exact("nhs_number", "nhs_number", "NHS number (valid check digit only)"),
        _exact("pnc_id", "pnc_id", "Police National Computer id (valid check letter only)"),
        _address(),
        _exact("sex", "sex", "Sex (unknown counts as missing)"),
        _exact("phone", "phone", "Phone number"),
        _exact("email", "email", "E-mail address"),
    ]


BLOCKING_RULES: Final[tuple[str, ...]] = (
    "l.nhs_number = r.nhs_number",
    "l.pnc_id = r.pnc_id",
    "l.dob = r.dob AND substr(l.family_joined, 1, 1) = substr(r.family_joined, 1, 1)",
    "l.given_canon = r.given_canon AND l.family_joined = r.family_joined",
    "l.postcode = r.postcode AND l.given_canon = r.given_canon",
    "l.address = r.address AND l.postcode = r.postcode",
    "l.given = r.family AND l.family = r.given",
    "l.dob = r.dob_transposed AND l.given_canon = r.given_canon",
    "l.phone = r.phone",
    "l.email = r.email",
)
"""Which pairs are scored at all (a pair is scored when any rule holds). Every rule joins on
an equality, and none on date of birth alone: at a million records that one rule would
outweigh all the others together."""

# EM sessions: each estimates m for the comparisons its blocking rule does not use.
TRAINING_RULES: Final[tuple[str, ...]] = (
    "l.dob = r.dob",
    "l.given_canon = r.given_canon AND l.family_joined = r.family_joined",
    "l.nhs_number = r.nhs_number",
)

# Near-certain matches, for the prior (the chance two random records are one person).
DETERMINISTIC_RULES: Final[tuple[str, ...]] = (
    "l.nhs_number = r.nhs_number",
    "l.pnc_id = r.pnc_id",
    "l.given_canon = r.given_canon AND l.family_joined = r.family_joined AND l.dob = r.dob",
)
DETERMINISTIC_RECALL: Final = 0.8


@lru_cache(maxsize=64)
def gamma_of(comparison: str, label: str) -> int:
    """The gamma value Splink gives the level labelled ``label`` of ``comparison``."""
    for spec in settings_creator().create_settings_dict("duckdb")["comparisons"]:
        if spec["output_column_name"] != comparison:
            continue
        levels = [lv for lv in spec["comparison_levels"] if not lv.get("is_null_level")]
        for position, level in enumerate(levels):
            if level.get("label_for_charts") == label:
                return len(levels) - 1 - position
    raise KeyError((comparison, label))


def settings_creator(blocking_rules: tuple[str, ...] = BLOCKING_RULES) -> SettingsCreator:
    """Splink settings for the OneStory model (untrained)."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=UNIQUE_ID,
        comparisons=list(comparisons()),
        blocking_rules_to_generate_predictions=[CustomRule(rule) for rule in blocking_rules],
        # Splink keeps the gamma (evidence) columns only along with the compared values;
        # the pipeline reads back just the ids, probability, weight and gammas.
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=False,
        max_iterations=20,
    )


# The least share of true matches that may disagree on a comparison. EM learns these from the
# data, and on tidy data (or a synthetic city) learns zero for, say, two e-mail addresses of
# one person: a single changed phone number would then veto any match. Real people change
# phones and e-mail; valid NHS numbers and PNC ids are rarely mistyped into another valid one.
M_FLOOR_FOR_DISAGREEMENT: Final[dict[str, float]] = {
    "name": 0.01,
    "date_of_birth": 0.002,
    "nhs_number": 0.002,
    "pnc_id": 0.002,
    "address": 0.05,
    "sex": 0.005,
    "phone": 0.05,
    "email": 0.05,
}


def with_m_floors(saved: dict[str, Any]) -> dict[str, Any]:
    """Splink's saved model with each comparison's "all other comparisons" m probability at
    least :data:`M_FLOOR_FOR_DISAGREEMENT` (the other levels scaled down to make room)."""
    model = deepcopy(saved)
    for comparison in model["comparisons"]:
        floor = M_FLOOR_FOR_DISAGREEMENT.get(comparison["output_column_name"])
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        else_level = levels[-1]
        m_else = else_level.get("m_probability")
        if floor is None or m_else is None or m_else >= floor:
            continue
        others = sum(lv.get("m_probability") or 0.0 for lv in levels[:-1])
        scale = (1.0 - floor) / others if others > 0 else 0.0
        for level in levels[:-1]:
            if level.get("m_probability") is not None:
                level["m_probability"] = level["m_probability"] * scale
        else_level["m_probability"] = floor
    return model


@dataclass(frozen=True, slots=True)
class LinkModel:
    """A trained linkage model: Splink's saved model JSON plus how it was trained.

    ``splink`` is exactly what Splink's ``save_model_to_json`` returned, in the SQL dialect of
    the backend that trained it; :meth:`settings_for` writes it for any backend.
    """

    splink: dict[str, Any]
    seed: int
    trained_on_records: int
    trained_on_profiles: int
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The model as a JSON document (stable key order, so equal models give equal text)."""
        return json.dumps(
            {
                "format": MODEL_FORMAT,
                "seed": self.seed,
                "trained_on_records": self.trained_on_records,
                "trained_on_profiles": self.trained_on_profiles,
                "extra": self.extra,
                "splink": self.splink,
            },
            sort_keys=True,
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> LinkModel:
        """The model saved by :meth:`to_json`; ``ModelMismatch`` if it is not one."""
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            raise ModelMismatch(f"not a {MODEL_FORMAT} model")
        model = cls(
            splink=data["splink"],
            seed=int(data["seed"]),
            trained_on_records=int(data["trained_on_records"]),
            trained_on_profiles=int(data["trained_on_profiles"]),
            extra=dict(data.get("extra", {})),
        )
        model.settings_for("duckdb")  # fail now, not at the first import, if it does not fit
        return model

    @property
    def probability_two_random_records_match(self) -> float:
        """The trained prior."""
        return float(self.splink["probability_two_random_records_match"])

    def settings_for(
        self, dialect: str, *, blocking_rules: tuple[str, ...] | None = None
    ) -> dict[str, Any]:
        """A Splink settings dict for ``dialect`` (``"duckdb"`` or ``"spark"``) carrying this
        model's trained parameters. ``blocking_rules`` replaces the prediction rules."""
        rules = BLOCKING_RULES if blocking_rules is None else blocking_rules
        fresh = settings_creator(rules).create_settings_dict(dialect)
        saved = self.splink["comparisons"]
        if len(saved) != len(fresh["comparisons"]):
            raise ModelMismatch("the saved model has a different number of comparisons")
        for new, old in zip(fresh["comparisons"], saved, strict=True):
            name = new["output_column_name"]
            if name != old["output_column_name"]:
                raise ModelMismatch(f"comparison {name!r} is not where the saved model has it")
            if len(new["comparison_levels"]) != len(old["comparison_levels"]):
                raise ModelMismatch(f"comparison {name!r} has different levels")
            for new_level, old_level in zip(
                new["comparison_levels"], old["comparison_levels"], strict=True
            ):
                if new_level.get("label_for_charts") != old_level.get("label_for_charts"):
                    raise ModelMismatch(f"comparison {name!r} has different levels")
                for key in ("m_probability", "u_probability"):
                    if key in old_level:
                        new_level[key] = old_level[key]
        fresh["probability_two_random_records_match"] = self.probability_two_random_records_match
        fresh["linker_uid"] = None
        return fresh

    def evidence_labels(self) -> dict[str, dict[int, str]]:
        """For each comparison, what its gamma values mean (``-1`` is missing data; the
        highest value is the strongest agreement)."""
        labels: dict[str, dict[int, str]] = {}
        for comparison in self.splink["comparisons"]:
            levels = comparison["comparison_levels"]
            named: dict[int, str] = {}
            value = len([lv for lv in levels if not lv.get("is_null_level")]) - 1
            for level in levels:
                if level.get("is_null_level"):
                    named[-1] = level.get("label_for_charts", "missing")
                else:
                    named[value] = level.get("label_for_charts", "")
                    value -= 1
            labels[comparison["output_column_name"]] = named
        return labels

    def match_weights(self) -> dict[str, list[tuple[str, float | None, float | None]]]:
        """For each comparison, each level's label with its m and u probabilities."""
        return {
            c["output_column_name"]: [
                (lv.get("label_for_charts", ""), lv.get("m_probability"), lv.get("u_probability"))
                for lv in c["comparison_levels"]
            ]
            for c in self.splink["comparisons"]
        }
