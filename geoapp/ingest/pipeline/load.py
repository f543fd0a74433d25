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
from sqlalchemy.orm import Session

from geoapp.db.models import Dataset
from geoapp.db.queries import imports as imports_sql
from geoapp.db.queries import shapes as shapes_sql
from geoapp.db.vocabulary import DatasetStatus
from geoapp.ingest.pipeline.encode import CutZones, binary_piece_rows
from geoapp.ingest.pipeline.plan import LayerPlan
from geoapp.ingest.pipeline.report import ImportReport
from geoapp.ingest.request import ImportRequest

# Batches cut ahead of the one being loaded (bounds the memory their pieces hold).
CUTS_AHEAD = 2


def copy_rows(dbapi: Any, text: str) -> None:
    """Bulk-load COPY text into flood_zones on a DBAPI connection."""
    with dbapi.cursor() as cursor:
        cursor.copy_expert(imports_sql.COPY_ZONES, io.StringIO(text))


def copy_cut_zones(dbapi: Any, zones: CutZones) -> None:
    """Bulk-load large zones and their pieces, tagged with the status the database gave them."""
    with dbapi.cursor() as cursor:
        cursor.execute(imports_sql.ALLOCATE_ZONE_IDS, (len(zones.lines),))
        ids = [str(row[0]) for row in cursor.fetchall()]
        cursor.copy_expert(
            imports_sql.COPY_ZONES_WITH_IDS,
            io.StringIO("".join(f"{zone_id}\t{line}\n"
                                for zone_id, line in zip(ids, zones.lines, strict=True))))
        # The risk status is the database's own (a generated column), copied to the pieces.
        cursor.execute(imports_sql.ZONE_STATUSES, (ids,))
        status = dict(cursor.fetchall())
        cursor.copy_expert(
            imports_sql.COPY_PIECES_BINARY,
            io.BytesIO(binary_piece_rows([(zone_id, status[zone_id]) for zone_id in ids],
                                         zones.piece_owners, zones.piece_ewkb)))


def importer_cuts_pieces(dbapi: Any, on: bool) -> None:
    """Tell the insert trigger of flood_zones (migration 0006) who cuts large zones' pieces."""
    with dbapi.cursor() as cursor:
        cursor.execute(imports_sql.IMPORTER_CUTS_PIECES, ("on" if on else "off",))


def retire_older_versions(session: Session, dataset: Dataset) -> list[int]:
    """Retire the ready datasets of the same name; they stay for `as_of` lookups."""
    superseded_on = dataset.effective_date or dt.date.today()
    return list(session.scalars(imports_sql.retire_older_versions(dataset, superseded_on)))


def mark_ready(session: Session, dataset: Dataset, plan: LayerPlan, request: ImportRequest,
               report: ImportReport, bounds: np.ndarray) -> None:
    """Record what was imported on the dataset and make it the `ready` version of its name."""
    dataset.source_crs = plan.crs_label
    dataset.effective_date = request.effective_date
    extent = tuple(float(v) for v in bounds)
    dataset.feature_count = report.imported
    dataset.bbox = shapes_sql.envelope(extent, shapes_sql.SRID)
    report.superseded_dataset_ids = retire_older_versions(session, dataset)
    report.bbox = [round(v, 7) for v in extent]
    dataset.status = DatasetStatus.READY
    dataset.progress = 1.0
    dataset.error = None
