"""Imports: a dataset's state while it loads, the retirement of older versions, and the SQL
the pipeline sends through its raw DBAPI cursor for COPY (psycopg2).

The COPY statements are composed with ``psycopg2.sql`` from the column lists below, so
identifiers are quoted by the driver; values only ever travel as COPY data or parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from psycopg2 import sql
from sqlalchemy import TextClause, Update, text, update

from geoapp.db.models import Dataset
from geoapp.db.queries.scope import dataset_is_active
from geoapp.db.vocabulary import DatasetStatus

# The columns of flood_zones the importer writes, in the order of its COPY text lines.
COPY_COLUMNS = ("dataset_id", "fld_ar_id", "dfirm_id", "fld_zone", "zone_subty", "sfha_tf",
                "static_bfe", "depth", "velocity", "vel_unit", "v_datum", "len_unit",
                "attributes", "geom")

PIECE_COLUMNS = ("zone_id", "risk_status", "geom")


def _columns(names: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(name) for name in names)


# Small zones: the database cuts their pieces (the insert trigger of migration 0006).
COPY_ZONES = sql.SQL("COPY flood_zones ({}) FROM STDIN").format(_columns(COPY_COLUMNS))
# Large zones: the importer cut their pieces, so it must know their ids beforehand.
COPY_ZONES_WITH_IDS = sql.SQL("COPY flood_zones ({}) FROM STDIN").format(
    _columns(("id", *COPY_COLUMNS)))
COPY_PIECES_BINARY = sql.SQL("COPY flood_zone_pieces ({}) FROM STDIN (FORMAT binary)").format(
    _columns(PIECE_COLUMNS))
# One parameter: how many ids to take from the zones' sequence.
ALLOCATE_ZONE_IDS = ("SELECT nextval(pg_get_serial_sequence('flood_zones', 'id')) "
                     "FROM generate_series(1, %s)")
# One parameter: the zone ids (as text) whose generated risk status the pieces copy.
ZONE_STATUSES = "SELECT id::text, risk_status FROM flood_zones WHERE id = ANY(%s::bigint[])"
# One parameter, 'on' or 'off': read by the insert trigger, for this transaction only.
IMPORTER_CUTS_PIECES = "SELECT set_config('geoapp.importer_cuts_pieces', %s, true)"


def set_dataset_state(dataset_id: int, *, only_if_status: Sequence[str] | None = None,
                      **values: Any) -> Update:
    """Update one dataset's import state (status, progress, error, report), maybe only from
    some statuses (so that an import that finished after all is left alone)."""
    statement = update(Dataset).where(Dataset.id == dataset_id)
    if only_if_status is not None:
        statement = statement.where(Dataset.status.in_(only_if_status))
    return statement.values(**values)


def retire_older_versions(dataset: Dataset, superseded_on: dt.date) -> Update:
    """Retire the other ready datasets of the same name, returning their ids."""
    return (
        update(Dataset)
        .where(Dataset.name == dataset.name, dataset_is_active(), Dataset.id != dataset.id)
        .values(status=DatasetStatus.RETIRED, superseded_on=superseded_on)
        .returning(Dataset.id)
    )


def refresh_statistics(zone_tables: bool) -> TextClause:
    """ANALYZE of the datasets table (and of the zone tables after a large import), so the
    planner sees an import before autovacuum does.

    Autovacuum never analyzes a table of a few rows (it waits for 50 changed rows): without
    statistics the planner takes `datasets` for a table of a thousand rows and a page of
    zones, joined to it for their status, for 1/40th of its size (a sorted hash join for
    deep pages instead of the id index).
    """
    if zone_tables:
        return text("ANALYZE datasets, flood_zones, flood_zone_pieces")
    return text("ANALYZE datasets")
