"""Where Splink runs: DuckDB (embedded, the default) or Spark (``--engine spark``).

A backend owns one Splink database API for its lifetime; tables go in as Arrow and results
come back as Arrow, so everything around Splink is the same code on both.
"""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import duckdb

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from splink.internals.database_api import DatabaseAPI
    from splink.internals.splink_dataframe import SplinkDataFrame

type EngineName = Literal["duckdb", "spark"]


class Backend(ABC):
    """A place Splink runs. Use as a context manager, or call :meth:`close`."""

    name: EngineName
    dialect: str

    def __init__(self) -> None:
        self._names = itertools.count(1)

    @abstractmethod
    def new_api(self) -> DatabaseAPI[Any]:
        """A fresh Splink database API. Splink caches intermediate tables (term frequencies
        among them) per API, so each linker gets its own: a cache shared between linkers over
        different tables would hand one table's frequencies to another."""

    def register(self, api: DatabaseAPI[Any], table: Any, purpose: str) -> SplinkDataFrame:
        """Hand an Arrow table to Splink under a fresh name."""
        return api.register(table, table_name=f"onestory_{purpose}_{next(self._names)}")

    def to_arrow(self, frame: SplinkDataFrame, columns: list[str] | None = None) -> Any:
        """A Splink result (or just some of its columns) as a ``pyarrow.Table``."""
        return self._select(frame.physical_name, columns or ["*"])

    @abstractmethod
    def _select(self, physical_name: str, columns: list[str]) -> Any: ...

    def drop(self, *frames: SplinkDataFrame) -> None:
        """Free the tables behind Splink results that are no longer needed."""
        for frame in frames:
            frame.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)

    def close(self) -> None:  # noqa: B027 - a backend with nothing to release keeps the default
        """Release what the backend holds."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DuckDBBackend(Backend):
    """Splink on DuckDB: in memory, or in ``directory/linkage.duckdb`` (which also takes
    DuckDB's spill files) so a large run can exceed memory."""

    name: EngineName = "duckdb"
    dialect = "duckdb"

    def __init__(
        self,
        directory: Path | None = None,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
    ) -> None:
        super().__init__()
        if directory is None:
            self.connection = duckdb.connect(":memory:")
        else:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / "linkage.duckdb"
            path.unlink(missing_ok=True)  # scratch space, rebuilt on every run
            self.connection = duckdb.connect(str(path))
            self.connection.execute(f"SET temp_directory = '{directory / 'spill'}'")
        if threads is not None:
            self.connection.execute(f"SET threads = {int(threads)}")
        if memory_limit is not None:
            self.connection.execute(f"SET memory_limit = '{memory_limit}'")
        self.connection.execute("SET preserve_insertion_order = false")

    def _select(self, physical_name: str, columns: list[str]) -> Any:
        # Names come from Splink and this package, never from data.
        sql = f"SELECT {', '.join(columns)} FROM {physical_name}"  # noqa: S608
        return self.connection.sql(sql).to_arrow_table()

    def new_api(self) -> DatabaseAPI[Any]:
        from splink import DuckDBAPI

        return DuckDBAPI(self.connection)

    def close(self) -> None:
        self.connection.close()


class SparkBackend(Backend):
    """Splink on Spark. Without a session, starts a local one (``local[2]``) set up as
    TOOLCHAIN.md says: this interpreter for workers, the driver on 127.0.0.1, no UI, Splink's
    similarity jar, few shuffle partitions."""

    name: EngineName = "spark"
    dialect = "spark"

    def __init__(
        self,
        spark: SparkSession | None = None,
        *,
        master: str = "local[2]",
        shuffle_partitions: int = 4,
        checkpoint_dir: Path | str | None = None,
    ) -> None:
        """``checkpoint_dir`` may be a URI (``s3a://…``, ``hdfs://…``) that every executor
        can reach; without one a local temporary directory is used (local mode only)."""
        super().__init__()
        self._own_session = spark is None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        if spark is None:
            spark = _local_session(master, shuffle_partitions)
        if checkpoint_dir is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="onestory-spark-")
            checkpoint_dir = Path(self._scratch.name)
        spark.sparkContext.setCheckpointDir(str(checkpoint_dir))
        self.spark = spark
        self.shuffle_partitions = shuffle_partitions
        self._api: DatabaseAPI[Any] | None = None

    def _select(self, physical_name: str, columns: list[str]) -> Any:
        return self.spark.table(physical_name).select(*columns).toArrow()

    def new_api(self) -> DatabaseAPI[Any]:
        # One API for the session (it registers Splink's UDFs, which takes seconds), its
        # cache emptied for each new linker.
        from splink import SparkAPI

        if self._api is None:
            self._api = SparkAPI(  # type: ignore[no-untyped-call]
                spark_session=self.spark,
                break_lineage_method="persist",
                num_partitions_on_repartition=self.shuffle_partitions,
            )
        self._api.delete_tables_created_by_splink_from_db()  # type: ignore[no-untyped-call]
        self._api._intermediate_table_cache.invalidate_cache()  # type: ignore[no-untyped-call]
        return self._api

    def register(self, api: DatabaseAPI[Any], table: Any, purpose: str) -> SplinkDataFrame:
        # A temp view made here and handed over by name: Splink's own registration first
        # asks Spark whether the name exists, a slow catalogue query each time.
        name = f"onestory_{purpose}_{next(self._names)}"
        self.spark.createDataFrame(table).createOrReplaceTempView(name)
        return api.register(name, table_name=name)

    def read_records(self, paths: Sequence[str], *, file_format: str = "parquet") -> Any:
        """Partner extracts at any Spark-readable ``paths`` (``file://``, ``s3a://``,
        ``abfss://``, ``hdfs://``; files or directories) as one raw records table for
        :func:`~onestory_engine.linkage.prepare`: ``record_id`` plus whichever of
        ``RAW_COLUMNS`` the extracts carry, every value as text. ``file_format`` is
        ``parquet`` or ``csv`` (with a header row)."""
        from pyspark.sql import functions as f

        from onestory_engine.linkage.prepare import RAW_COLUMNS

        if not paths:
            raise ValueError("no extracts to read: give at least one path")
        reader = self.spark.read
        if file_format == "csv":
            # Every column as text: identifiers like NHS numbers keep their leading zeros.
            frame = reader.options(header=True, inferSchema=False).csv(list(paths))
        elif file_format == "parquet":
            frame = reader.parquet(*paths)
        else:
            raise ValueError(f"unknown file format {file_format!r}: expected parquet or csv")
        if "record_id" not in frame.columns:
            raise ValueError(f"the extracts at {paths[0]} have no record_id column")
        wanted = ["record_id", *(c for c in RAW_COLUMNS if c in frame.columns)]
        return frame.select(*(f.col(c).cast("string").alias(c) for c in wanted)).toArrow()

    def write_table(self, table: Any, path: str) -> None:
        """Write an Arrow table (the person index, the review pairs) as Parquet to a
        Spark-writable ``path``, replacing what was there."""
        self.spark.createDataFrame(table).write.mode("overwrite").parquet(path)

    def close(self) -> None:
        if self._own_session:
            self.spark.stop()
        if self._scratch is not None:
            self._scratch.cleanup()


def _local_session(master: str, shuffle_partitions: int) -> SparkSession:
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder: Any = SparkSession.builder
    session: SparkSession = (
        builder.master(master)
        .appName("onestory-linkage")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(shuffle_partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def backend(engine: EngineName = "duckdb", *, directory: Path | None = None) -> Backend:
    """The backend called ``engine`` with its defaults (the CLI's ``--engine``)."""
    if engine == "duckdb":
        return DuckDBBackend(directory)
    if engine == "spark":
        return SparkBackend(checkpoint_dir=None if directory is None else directory / "spark")
    raise ValueError(f"unknown engine {engine!r}: expected duckdb or spark")
