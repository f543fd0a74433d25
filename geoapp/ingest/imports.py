"""Running an import for the web, API and CLI: pending dataset, progress, success or failure.

The pipeline writes inside one transaction; progress is written on separate, short
transactions so that other connections see it while that one runs, and a failure is recorded
after the import's transaction was rolled back.
"""

from __future__ import annotations

import codecs
import datetime as dt
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
from geoapp.ingest import pipeline, uploads

MAX_NAME = 200


def options_from_form(form: dict[str, Any]) -> pipeline.ImportOptions:
    """Import options from submitted fields (web form, API multipart or CLI flags)."""
    for key in ("name", "source_crs", "encoding", "layer"):
        if "\x00" in str(form.get(key) or ""):  # PostgreSQL text (and codecs) cannot hold NUL
            raise InvalidInput(f"{key} must not contain NUL characters", code="invalid_text")
    name = str(form.get("name") or "").strip()
    if not name:
        raise InvalidInput("give the dataset a name", code="missing_name")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"the name is longer than {MAX_NAME} characters", code="invalid_name")
    effective = form.get("effective_date") or None
    if isinstance(effective, str):
        try:
            effective = dt.date.fromisoformat(effective.strip())
        except ValueError:
            raise InvalidInput(f"effective_date must be YYYY-MM-DD, got {effective!r}",
                               code="invalid_date") from None
    encoding = (form.get("encoding") or "").strip() or None
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InvalidInput(f"unknown text encoding {encoding[:40]!r}; use a name such as "
                               "cp1252, latin-1 or utf-8", code="invalid_encoding") from None
    field_map = form.get("field_map") or {}
    if not isinstance(field_map, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in field_map.items()
    ):
        raise InvalidInput('field_map must be an object like {"FLD_ZONE": "ZONE"}',
                           code="invalid_field_mapping")
    return pipeline.ImportOptions(
        name=name,
        effective_date=effective,
        source_crs=(form.get("source_crs") or "").strip() or None,
        encoding=encoding,
        layer=(form.get("layer") or "").strip() or None,
        field_map=field_map,
        repair=bool(form.get("repair", True)),
    )


def options_json(options: pipeline.ImportOptions) -> dict[str, Any]:
    """Options as JSON for a queued job."""
    return {
        "name": options.name,
        "effective_date": options.effective_date.isoformat() if options.effective_date else None,
        "source_crs": options.source_crs,
        "encoding": options.encoding,
        "layer": options.layer,
        "field_map": options.field_map,
        "repair": options.repair,
    }


def create_pending(session: Session, options: pipeline.ImportOptions, filename: str,
                   user: User | None) -> Dataset:
    """A dataset row in `queued` state that reports the import's progress; the caller commits."""
    dataset = Dataset(name=options.name, source_filename=filename[:255],
                      status=DatasetStatus.QUEUED,
                      effective_date=options.effective_date, progress=0.0,
                      imported_by_id=user.id if user else None)
    session.add(dataset)
    session.flush()
    return dataset


def record_progress(engine: Engine, dataset_id: int, fraction: float) -> None:
    """Publish the progress of an import (its own short transaction)."""
    with engine.begin() as connection:
        connection.execute(imports_sql.set_dataset_state(
            dataset_id, status=DatasetStatus.IMPORTING, progress=round(fraction, 4)))


def run(session: Session, dataset: Dataset, upload: Path, workdir: Path,
        options: pipeline.ImportOptions, limits: uploads.UnpackLimits,
        progress: Callable[[int, int], None] | None = None) -> pipeline.ImportReport:
    """Unpack and import an upload into a pending dataset; the caller commits or rolls back."""
    source = uploads.prepare(upload, workdir, limits, options.layer)
    return pipeline.import_layer(session, dataset, source, options, progress)


def run_to_completion(session: Session, dataset_id: int, upload: Path,
                      options: pipeline.ImportOptions, limits: uploads.UnpackLimits,
                      progress: Callable[[int, int], None] | None = None) -> Dataset | None:
    """Import, commit, or on a refusal roll back and record why; the upload is removed.

    Unexpected errors are recorded as an internal failure and raised again.
    """
    workdir = Path(tempfile.mkdtemp(prefix="geoapp-import-"))
    try:
        dataset = session.get(Dataset, dataset_id)
        if dataset is None or dataset.status not in (DatasetStatus.QUEUED, DatasetStatus.IMPORTING):
            return dataset
        try:
            run(session, dataset, upload, workdir, options, limits, progress)
            session.commit()
        except AppError as error:
            session.rollback()
            report = getattr(error, "report", None)
            fail(session, dataset_id, error.message, report.as_json() if report else None)
        except Exception:
            session.rollback()
            fail(session, dataset_id, "the import failed on an internal error; nothing was "
                 "imported")
            raise
        return session.get(Dataset, dataset_id)
    finally:
        uploads.remove_tree(workdir)
        uploads.remove_tree(upload.parent)


def fail(session: Session, dataset_id: int, message: str,
         report: dict[str, Any] | None = None) -> None:
    """Mark a dataset's import failed (committed)."""
    session.execute(imports_sql.set_dataset_state(
        dataset_id, status=DatasetStatus.FAILED, error=message, import_report=report))
    session.commit()
