"""Stage 5, load: COPY into flood_zones (and flood_zone_pieces) on the import's connection,
then the dataset switches to `ready`, retiring an older version of the same name.

Everything here runs inside the caller's transaction: a failure, a crash or a killed worker
leaves the database as it was. The COPY statements are DBAPI-level (psycopg's copy_expert),
which SQLAlchemy expressions do not cover.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import numpy as np
from sqlalchemy import update
from sqlalchemy.orm import Session

from geoapp.db import queries
from geoapp.db.models import Dataset
from geoapp.ingest.pipeline.encode import COPY_COLUMNS, PIECE_COLUMNS, CutZones, binary_piece_rows
from geoapp.ingest.pipeline.plan import LayerPlan
from geoapp.ingest.pipeline.report import ImportReport
from geoapp.ingest.request import ImportRequest

# Batches cut ahead of the one being loaded (bounds the memory their pieces hold).
CUTS_AHEAD = 2


def copy_rows(dbapi: Any, text: str) -> None:
    """Bulk-load COPY text into flood_zones on a DBAPI connection."""
    with dbapi.cursor() as cursor:
        cursor.copy_expert(f"COPY flood_zones ({', '.join(COPY_COLUMNS)}) FROM STDIN",
                           io.StringIO(text))


ALLOCATE_ZONE_IDS = ("SELECT nextval(pg_get_serial_sequence('flood_zones', 'id')) "
                     "FROM generate_series(1, %s)")


def copy_cut_zones(dbapi: Any, zones: CutZones) -> None:
    """Bulk-load large zones and their pieces, tagged with the status the database gave them."""
    with dbapi.cursor() as cursor:
        cursor.execute(ALLOCATE_ZONE_IDS, (len(zones.lines),))
        ids = [str(row[0]) for row in cursor.fetchall()]
        cursor.copy_expert(
            f"COPY flood_zones (id, {', '.join(COPY_COLUMNS)}) FROM STDIN",
            io.StringIO("".join(f"{zone_id}\t{line}\n"
                                for zone_id, line in zip(ids, zones.lines, strict=True))))
        # The risk status is the database's own (a generated column), copied to the pieces.
        cursor.execute("SELECT id::text, risk_status FROM flood_zones WHERE id = ANY(%s::bigint[])",
                       (ids,))
        status = dict(cursor.fetchall())
        cursor.copy_expert(
            f"COPY flood_zone_pieces ({', '.join(PIECE_COLUMNS)}) FROM STDIN (FORMAT binary)",
            io.BytesIO(binary_piece_rows([(zone_id, status[zone_id]) for zone_id in ids],
                                         zones.piece_owners, zones.piece_ewkb)))


def importer_cuts_pieces(dbapi: Any, on: bool) -> None:
    """Tell the insert trigger of flood_zones (migration 0006) who cuts large zones' pieces."""
    with dbapi.cursor() as cursor:
        cursor.execute("SELECT set_config('geoapp.importer_cuts_pieces', %s, true)",
                       ("on" if on else "off",))


def retire_older_versions(session: Session, dataset: Dataset) -> list[int]:
    """Retire the ready datasets of the same name; they stay for `as_of` lookups."""
    superseded_on = dataset.effective_date or dt.date.today()
    # SQL: moved by ingest (from ingest/pipeline.py, statement unchanged)
    retired = session.scalars(
        update(Dataset)
        .where(Dataset.name == dataset.name, Dataset.status == "ready", Dataset.id != dataset.id)
        .values(status="retired", superseded_on=superseded_on)
        .returning(Dataset.id)
    ).all()
    return list(retired)




def mark_ready(session: Session, dataset: Dataset, plan: LayerPlan, request: ImportRequest,
               report: ImportReport, bounds: np.ndarray) -> None:
    """Record what was imported on the dataset and make it the `ready` version of its name."""
    dataset.source_crs = plan.crs_label
    dataset.effective_date = request.effective_date
    extent = tuple(float(v) for v in bounds)
    dataset.feature_count = report.imported
    dataset.bbox = queries.envelope(extent, queries.SRID)
    report.superseded_dataset_ids = retire_older_versions(session, dataset)
    report.bbox = [round(v, 7) for v in extent]
    dataset.status = "ready"
    dataset.progress = 1.0
    dataset.error = None
