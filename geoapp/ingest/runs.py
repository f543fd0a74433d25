"""Running an import, the one way the web, the API, the CLI and the worker all take.

`create_pending` makes the dataset that reports the import's progress; `run_import` unpacks
the upload, runs the pipeline and commits, or rolls everything back and raises. A small web
upload and a CLI import create the dataset in the same transaction as the import, so a
refusal leaves no trace; a queued upload's dataset was committed when it was queued, and
`run_queued_import` records a refusal on it.

The pipeline writes inside one transaction; progress is written on separate, short
transactions so that other connections see it while that one runs, and a failure is recorded
after the import's transaction was rolled back.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from geoapp.db.models import Dataset, User
from geoapp.db.queries import imports as imports_sql
from geoapp.db.vocabulary import DatasetStatus
from geoapp.errors import AppError, InvalidInput
from geoapp.ingest import files, pipeline, rasters
from geoapp.ingest.package import find_package, import_package_layers
from geoapp.ingest.request import ImportRequest

log = logging.getLogger(__name__)

# Imports of at least this many zones refresh the planner's statistics when they commit.
ANALYZE_AFTER_ZONES = 1000

HASH_BLOCK = 1 << 20

# Working directories of imports (see geoapp.ingest.jobs.SYSTEM_TEMP_PREFIXES).
WORKDIR_PREFIX = "geoapp-import-"


def create_pending(session: Session, request: ImportRequest, filename: str,
                   user: User | None) -> Dataset:
    """A dataset row in `queued` state that reports the import's progress; not committed."""
    dataset = Dataset(name=request.name, source_filename=filename[:255],
                      status=DatasetStatus.QUEUED,
                      effective_date=request.effective_date, progress=0.0,
                      imported_by_id=user.id if user else None)
    session.add(dataset)
    session.flush()
    return dataset


def record_progress(engine: Engine, dataset_id: int, fraction: float) -> None:
    """Publish the progress of an import (its own short transaction)."""
    with engine.begin() as connection:
        connection.execute(imports_sql.set_dataset_state(
            dataset_id, status=DatasetStatus.IMPORTING, progress=round(fraction, 4)))


def run_import(session: Session, dataset: Dataset, upload: Path, request: ImportRequest,
               limits: files.UnpackLimits,
               progress: Callable[[int, int], None] | None = None,
               raster_target: rasters.RasterTarget | None = None) -> pipeline.ImportReport:
    """Unpack an upload and import it into its pending dataset, then commit.

    All or nothing: on any error the session is rolled back (with the dataset, if it was
    created in this transaction) and the error raised. The upload itself is left alone;
    archives are unpacked in a working directory removed here. A raster (`request.kind`)
    goes to `raster_target`'s store instead, its file removed if the commit fails.
    """
    if request.is_raster:
        return run_raster_import(session, dataset, upload, request, raster_target, progress)
    workdir = Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX))
    try:
        source = files.prepare(upload, workdir, limits, request.layer)
        report = pipeline.import_layer(session, dataset, source, request, progress)
        if request.layer is None:  # a layer asked for by name is imported alone
            package = find_package(files.package_root(upload, workdir), source)
            if package:
                report.package = import_package_layers(session, dataset, package, request)
                dataset.import_report = report.as_json()
        dataset.source_sha256 = file_sha256(upload)
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        files.remove_tree(workdir)
    refresh_statistics(session, zone_tables=report.imported >= ANALYZE_AFTER_ZONES)
    return report


def run_raster_import(session: Session, dataset: Dataset, upload: Path, request: ImportRequest,
                      target: rasters.RasterTarget | None,
                      progress: Callable[[int, int], None] | None = None
                      ) -> pipeline.ImportReport:
    """Import a raster into its pending dataset and commit; nothing stays on failure."""
    if target is None:
        raise RuntimeError("a raster import needs a raster store")
    if progress is not None:  # a queued import is now running
        progress(0, 1)
    stored: list[str] = []
    try:
        if not rasters.is_raster_file(upload):
            raise InvalidInput(f"{upload.name}: a {request.kind} raster must be a GeoTIFF "
                               "(.tif or .tiff)", code="unsupported_format")
        raster = rasters.import_raster(session, dataset, upload, request, target)
        stored.append(raster.file_name)
        dataset.source_sha256 = file_sha256(upload)
        session.commit()
    except BaseException:
        session.rollback()
        target.store.remove(stored)
        raise
    refresh_statistics(session, zone_tables=False)
    return pipeline.ImportReport(source=upload.name, layer=raster.kind, source_crs=raster.crs,
                                 encoding=None, bbox=raster.bbox,
                                 superseded_dataset_ids=raster.superseded_dataset_ids)


def file_sha256(path: Path) -> str | None:
    """SHA-256 of an uploaded file, cited by determinations; None for a folder."""
    if path.is_dir():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def refresh_statistics(session: Session, zone_tables: bool) -> None:
    """Analyze the datasets table, and the zone tables after a large import (committed; a
    failure is only logged).

    Until autovacuum gets to it (a minute or more on a busy server, never for a table of a
    few rows), the planner works from the tables' old statistics: those of an empty table,
    for a first import.
    """
    try:
        session.execute(imports_sql.refresh_statistics(zone_tables))
        session.commit()
    except Exception:  # the import is already committed: stale statistics are not an error
        session.rollback()
        log.warning("could not analyze the zone tables after an import", exc_info=True)


def run_queued_import(session: Session, dataset_id: int, upload: Path, request: ImportRequest,
                      limits: files.UnpackLimits,
                      progress: Callable[[int, int], None] | None = None,
                      raster_target: rasters.RasterTarget | None = None) -> Dataset | None:
    """Import into a committed pending dataset; a refusal is recorded on it; the upload's
    directory is removed.

    Unexpected errors are recorded as an internal failure and raised again.
    """
    try:
        dataset = session.get(Dataset, dataset_id)
        if dataset is None or dataset.status not in (DatasetStatus.QUEUED, DatasetStatus.IMPORTING):
            return dataset
        try:
            run_import(session, dataset, upload, request, limits, progress, raster_target)
        except AppError as error:
            report = getattr(error, "report", None)
            fail(session, dataset_id, error.message, report.as_json() if report else None)
        except Exception:
            fail(session, dataset_id, "the import failed on an internal error; nothing was "
                 "imported")
            raise
        return session.get(Dataset, dataset_id)
    finally:
        files.remove_tree(upload.parent)


def fail(session: Session, dataset_id: int, message: str,
         report: dict[str, Any] | None = None, *, unless_finished: bool = False) -> None:
    """Mark a dataset's import failed (committed); with `unless_finished`, only if it is still
    queued or importing (its worker may have died after the commit)."""
    session.execute(imports_sql.set_dataset_state(
        dataset_id,
        only_if_status=(DatasetStatus.QUEUED, DatasetStatus.IMPORTING) if unless_finished else None,
        status=DatasetStatus.FAILED, error=message, import_report=report))
    session.commit()
