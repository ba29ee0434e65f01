"""Record linkage: partner records into persons, with Splink on DuckDB or Spark.

The pieces, in the order a run uses them::

    table = prepare(rows)                                   # standardise identity fields
    model = train(table, backend=DuckDBBackend(), seed=1)   # EM on the data itself
    pairs = predict(table, model, backend=...)              # scored pairs with evidence
    clusters = cluster(table["record_id"], pairs, threshold=0.95)
    ids = assign_stable_ids(clusters, previous, person_created, allocate)

or all at once with :func:`link_all`, and :func:`link_new` for records arriving once a model
exists. Tables are ``pyarrow.Table``; the backend (DuckDB or Spark) is passed in.
"""

from onestory_engine.linkage.backends import (
    Backend,
    DuckDBBackend,
    EngineName,
    SparkBackend,
    backend,
)
from onestory_engine.linkage.clusters import (
    Split,
    StableIds,
    assign_stable_ids,
    attach_new_records,
    cluster,
    review_pairs,
    strongest_links,
)
from onestory_engine.linkage.model import (
    BLOCKING_RULES,
    LinkModel,
    ModelMismatch,
    comparisons,
)
from onestory_engine.linkage.pipeline import (
    PAIR_SCHEMA,
    NotEnoughData,
    link_incremental,
    predict,
    profiles,
    train,
)
from onestory_engine.linkage.prepare import LINKAGE_SCHEMA, RAW_COLUMNS, prepare
from onestory_engine.linkage.runs import LinkResult, LinkSettings, link_all, link_new

__all__ = [
    "BLOCKING_RULES",
    "LINKAGE_SCHEMA",
    "PAIR_SCHEMA",
    "RAW_COLUMNS",
    "Backend",
    "DuckDBBackend",
    "EngineName",
    "LinkModel",
    "LinkResult",
    "LinkSettings",
    "ModelMismatch",
    "NotEnoughData",
    "SparkBackend",
    "Split",
    "StableIds",
    "assign_stable_ids",
    "attach_new_records",
    "backend",
    "cluster",
    "comparisons",
    "link_all",
    "link_incremental",
    "link_new",
    "predict",
    "prepare",
    "profiles",
    "review_pairs",
    "strongest_links",
    "train",
]
