"""Training, scoring and incremental scoring with Splink.

Partners send one row per event, so most records repeat another record's identity exactly.
Splink only ever sees *profiles*: one representative record (the smallest ``record_id``) for
each distinct set of compared values. Pairs between profiles are scored by Splink; the other
records of a profile are tied to its representative by a pair scored the same way (the model's
probability for two records with those values), so every record keeps a probability and its
evidence while the work grows with the number of distinct identities, not rows.
"""

from __future__ import annotations

import logging
from copy import deepcopy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from splink import Linker
from splink.internals.exceptions import EMTrainingException

from onestory_engine.linkage.backends import Backend
from onestory_engine.linkage.model import (
    BLOCKING_RULES,
    DETERMINISTIC_RECALL,
    DETERMINISTIC_RULES,
    SAME_FAMILY_OTHER_GIVEN,
    TRAINING_RULES,
    LinkModel,
    comparisons,
    gamma_of,
    settings_creator,
    with_m_floors,
)

if TYPE_CHECKING:
    from splink.internals.database_api import DatabaseAPI
    from splink.internals.splink_dataframe import SplinkDataFrame

logger = logging.getLogger(__name__)

TF_COLUMNS: Final[tuple[str, ...]] = ("full_name",)
SAME_PROFILE_RULE: Final = "l.profile_key = r.profile_key"
GAMMA_COLUMNS: Final[tuple[str, ...]] = tuple(
    f"gamma_{c.create_output_column_name()}" for c in comparisons()
)
PAIR_SCHEMA: Final = pa.schema(
    [
        pa.field("record_id_l", pa.string(), nullable=False),
        pa.field("record_id_r", pa.string(), nullable=False),
        pa.field("match_probability", pa.float64(), nullable=False),
        pa.field("match_weight", pa.float64(), nullable=False),
        pa.field("needs_review", pa.bool_(), nullable=False),
        *(pa.field(name, pa.int8()) for name in GAMMA_COLUMNS),
    ]
)
"""Scored pairs: ``record_id_l < record_id_r``, the probability and weight, whether the pair
needs a person's eye whatever its probability (``needs_review``), and one gamma column per
comparison as evidence (see :meth:`LinkModel.evidence_labels`).

``needs_review`` marks the pattern of twins and siblings: the family name agrees, the given
names plainly differ, and no NHS number or PNC id agrees. Such pairs usually agree on date
of birth and address too, and the model, which weighs each agreement as independent
evidence, cannot tell a household from a person; so they are never linked automatically."""


class NotEnoughData(ValueError):
    """The records are too few (or too sparse) to train a model on."""


@dataclass(frozen=True, slots=True)
class Profiles:
    """A linkage table split into representatives (one per profile, with ``n_records``) and
    the other records with the representative they repeat."""

    representatives: Any  # pyarrow.Table: the linkage columns + n_records
    members: Any  # pyarrow.Table: record_id, representative


def profiles(table: Any, *, members: bool = True) -> Profiles:
    """Group a linkage table (from :func:`prepare`) by ``profile_key``; ``members=False``
    skips listing the repeated records (an empty table then)."""
    con = duckdb.connect()
    try:
        con.register("t", table)
        con.execute(
            """
            CREATE TEMP TABLE grouped AS
            SELECT profile_key, min(record_id) AS representative, count(*) AS n_records
            FROM t GROUP BY profile_key
            """
        )
        representatives = con.sql(
            """
            SELECT t.*, g.n_records FROM t
            JOIN grouped g ON t.record_id = g.representative
            ORDER BY t.record_id
            """
        ).to_arrow_table()
        repeated = con.sql(
            f"""
            SELECT t.record_id, g.representative FROM t
            JOIN grouped g USING (profile_key)
            WHERE g.n_records > 1 AND t.record_id <> g.representative AND {bool(members)}
            """  # noqa: S608 - a constant
        ).to_arrow_table()
    finally:
        con.close()
    return Profiles(representatives=representatives, members=repeated)


def train(
    table: Any,
    *,
    backend: Backend,
    seed: int = 20240,
    u_max_pairs: float = 2e6,
    em_max_pairs: float = 5e5,
) -> LinkModel:
    """Estimate the model's parameters on the data itself, without labels.

    The prior comes from near-certain rules (same NHS number, same PNC id, same names and
    date of birth) with an assumed recall; u (how often non-matches agree by chance) from
    ``u_max_pairs`` random pairs drawn with ``seed``; m (how often matches agree) by
    expectation maximisation in three sessions blocked on date of birth, on names and on NHS
    number, each sampled down to about ``em_max_pairs`` pairs. Training runs on profiles
    (distinct identities), the same units that are scored. The same table and seed give the
    same model.
    """
    return train_profiles(
        profiles(table, members=False),
        backend=backend,
        seed=seed,
        u_max_pairs=u_max_pairs,
        em_max_pairs=em_max_pairs,
    )


def train_profiles(
    grouped: Profiles,
    *,
    backend: Backend,
    seed: int = 20240,
    u_max_pairs: float = 2e6,
    em_max_pairs: float = 5e5,
) -> LinkModel:
    """:func:`train` on a table already grouped by :func:`profiles`."""
    reps = grouped.representatives.drop_columns(["n_records"])
    trained_on_records = pc.sum(grouped.representatives.column("n_records")).as_py() or 0
    if reps.num_rows < 2:
        raise NotEnoughData("too few records to train a linkage model")
    api = backend.new_api()
    frame = backend.register(api, reps, "train")
    linker = Linker(frame, settings_creator(), log_level=None)
    training = linker.training
    training.estimate_probability_two_random_records_match(
        list(DETERMINISTIC_RULES), recall=DETERMINISTIC_RECALL
    )
    training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    sessions = 0
    for rule in TRAINING_RULES:
        # A failed session can leave the linker's settings without the comparisons it set
        # aside for its blocking rule: keep a copy to put back.
        before = deepcopy(linker._settings_obj.core_model_settings)
        try:
            training.estimate_parameters_using_expectation_maximisation(
                rule,
                estimate_without_term_frequencies=True,
                max_pairs=em_max_pairs if reps.num_rows > 20_000 else None,
            )
        except EMTrainingException as error:
            # A small index may have no pairs under a rule (say, no NHS numbers yet): the
            # other sessions still estimate what they can.
            logger.warning("EM session on %s skipped: %s", rule, str(error).splitlines()[0])
            linker._settings_obj.core_model_settings = before
            continue
        sessions += 1
    if sessions == 0:
        _release(api, frame)
        raise NotEnoughData("too few records to train a linkage model: no pairs to learn from")
    saved = with_m_floors(linker.misc.save_model_to_json())
    _release(api, frame)
    return LinkModel(
        splink=saved,
        seed=seed,
        trained_on_records=trained_on_records,
        trained_on_profiles=reps.num_rows,
    )


def _release(api: DatabaseAPI[Any], *frames: SplinkDataFrame) -> None:
    api.delete_tables_created_by_splink_from_db()  # type: ignore[no-untyped-call]
    for frame in frames:
        frame.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)


_NEEDS_REVIEW_SQL: Final = (
    f"(gamma_name = {gamma_of('name', SAME_FAMILY_OTHER_GIVEN)}"
    f" AND gamma_nhs_number <> {gamma_of('nhs_number', 'Exact match on nhs_number')}"
    f" AND gamma_pnc_id <> {gamma_of('pnc_id', 'Exact match on pnc_id')})"
)
_SPLINK_PAIR_COLUMNS: Final = [
    "record_id_l", "record_id_r", "match_probability", "match_weight", *GAMMA_COLUMNS
]  # fmt: skip


def _pairs_from_splink(backend: Backend, frame: SplinkDataFrame) -> Any:
    raw = backend.to_arrow(frame, _SPLINK_PAIR_COLUMNS)
    return _normalise_pairs(raw, "record_id_l", "record_id_r")


def _normalise_pairs(raw: Any, left: str, right: str) -> Any:
    """Pairs in :data:`PAIR_SCHEMA` order and types, smaller id on the left."""
    con = duckdb.connect()
    try:
        con.register("p", raw)
        gammas = ", ".join(f"CAST({g} AS TINYINT) AS {g}" for g in GAMMA_COLUMNS)
        # Only column names and this module's constants go into the text.
        sql = f"""
            SELECT least({left}, {right}) AS record_id_l,
                   greatest({left}, {right}) AS record_id_r,
                   CAST(match_probability AS DOUBLE) AS match_probability,
                   CAST(match_weight AS DOUBLE) AS match_weight,
                   {_NEEDS_REVIEW_SQL} AS needs_review,
                   {gammas}
            FROM p
            """  # noqa: S608
        return con.sql(sql).to_arrow_table().cast(PAIR_SCHEMA)
    finally:
        con.close()


def _same_profile_pairs(
    backend: Backend, linker: Linker, grouped: Profiles, frame_name: str
) -> Any:
    """Pairs tying every non-representative record to its representative, scored as two
    records with identical values."""
    reps = grouped.representatives
    multi = reps.filter(pc.greater(reps.column("n_records"), 1))
    if multi.num_rows == 0 or grouped.members.num_rows == 0:
        return PAIR_SCHEMA.empty_table()
    con = duckdb.connect()
    try:
        con.register("multi", multi.drop_columns(["n_records"]))
        con.register("members", grouped.members)
        # A stand-in for each profile's second record: its values, another record's id.
        shadow = con.sql(
            """
            SELECT * REPLACE (s.record_id AS record_id) FROM multi
            JOIN (SELECT representative, min(record_id) AS record_id FROM members
                  GROUP BY representative) s ON multi.record_id = s.representative
            """
        ).to_arrow_table()
    finally:
        con.close()
    shadow = shadow.select(multi.drop_columns(["n_records"]).column_names)
    api = linker._db_api  # the tables must live where the linker's do
    left = backend.register(api, multi.drop_columns(["n_records"]), f"{frame_name}_same_l")
    right = backend.register(api, shadow, f"{frame_name}_same_r")
    scored_frame = linker.inference.predict_between(
        left,
        right,
        blocking_rules_to_generate_predictions=[SAME_PROFILE_RULE],
        warning_mode="never",
    )
    scored = backend.to_arrow(scored_frame, _SPLINK_PAIR_COLUMNS)
    backend.drop(scored_frame, left, right)
    # One scored pair per profile (representative, shadow): give it to every member.
    con = duckdb.connect()
    try:
        con.register("scored", scored)
        con.register("members", grouped.members)
        gammas = ", ".join(GAMMA_COLUMNS)
        sql = f"""
            SELECT m.representative AS a, m.record_id AS b,
                   s.match_probability, s.match_weight, {gammas}
            FROM members m
            JOIN scored s ON m.representative = least(s.record_id_l, s.record_id_r)
            """  # noqa: S608
        expanded = con.sql(sql).to_arrow_table()
    finally:
        con.close()
    return _normalise_pairs(expanded, "a", "b")


def _filter(pairs: Any, threshold: float) -> Any:
    return pairs.filter(pc.greater_equal(pairs.column("match_probability"), threshold))


def predict(table: Any, model: LinkModel, *, backend: Backend, threshold: float = 0.5) -> Any:
    """Score candidate pairs of a linkage table (from :func:`prepare`) with a trained model.

    Returns the pairs (:data:`PAIR_SCHEMA`, a ``pyarrow.Table``) whose match probability is
    at least ``threshold``: pairs of distinct identities found by the blocking rules, and a
    pair tying each repeated identity to the first record that has it.
    """
    if table.num_rows == 0:
        return PAIR_SCHEMA.empty_table()
    return predict_profiles(profiles(table), model, backend=backend, threshold=threshold)


def predict_profiles(
    grouped: Profiles, model: LinkModel, *, backend: Backend, threshold: float = 0.5
) -> Any:
    """:func:`predict` on a table already grouped by :func:`profiles`."""
    reps = grouped.representatives.drop_columns(["n_records"])
    api = backend.new_api()
    frame = backend.register(api, reps, "predict")
    linker = Linker(frame, model.settings_for(backend.dialect), log_level=None)
    for column in TF_COLUMNS:
        linker.table_management.compute_tf_table(column)
    scored_frame = linker.inference.predict(
        threshold_match_probability=threshold, warning_mode="never"
    )
    between = _pairs_from_splink(backend, scored_frame)
    backend.drop(scored_frame)
    same = _same_profile_pairs(backend, linker, grouped, "predict")
    _release(api, frame)
    return pa.concat_tables([between, _filter(same, threshold)])


def link_incremental(
    new_table: Any,
    existing_table: Any,
    model: LinkModel,
    *,
    backend: Backend,
    threshold: float = 0.5,
) -> Any:
    """Score the pairs that new records make, among themselves and with existing records.

    ``new_table`` and ``existing_table`` are linkage tables (from :func:`prepare`) with no
    ``record_id`` in common. Returns pairs as :func:`predict` does, each with at least one
    new record: what a full run would add for them, without rescoring existing pairs. Term
    frequencies come from the existing records.
    """
    if new_table.num_rows == 0:
        return PAIR_SCHEMA.empty_table()
    if existing_table.num_rows == 0:
        return predict(new_table, model, backend=backend, threshold=threshold)
    new_grouped = profiles(new_table)
    new_reps = new_grouped.representatives.drop_columns(["n_records"])
    existing_reps = profiles(existing_table, members=False).representatives.drop_columns(
        ["n_records"]
    )
    api = backend.new_api()
    existing_frame = backend.register(api, existing_reps, "existing")
    linker = Linker(existing_frame, model.settings_for(backend.dialect), log_level=None)
    for column in TF_COLUMNS:
        linker.table_management.compute_tf_table(column)
    new_frame = backend.register(api, new_reps, "new")
    within_frame = linker.inference.predict_within(
        new_frame, threshold_match_probability=threshold, warning_mode="never"
    )
    # A new record identical to an existing profile must meet it even when no blocking rule
    # would pair them (e.g. a name-only record).
    between_frame = linker.inference.predict_between(
        new_frame,
        existing_frame,
        blocking_rules_to_generate_predictions=[*BLOCKING_RULES, SAME_PROFILE_RULE],
        threshold_match_probability=threshold,
        warning_mode="never",
    )
    within = _pairs_from_splink(backend, within_frame)
    between = _pairs_from_splink(backend, between_frame)
    backend.drop(within_frame, between_frame)
    same = _same_profile_pairs(backend, linker, new_grouped, "incremental")
    _release(api, new_frame, existing_frame)
    return pa.concat_tables([within, between, _filter(same, threshold)])
