"""Taking an upload from a request (web form or API): save, check, then import now or queue.

Everything that can be checked without GDAL is checked before a dataset exists (the file's
content, an archive's entries and the member that will be opened), and a small upload is
imported within the request in one transaction: a refused upload is an error response and
leaves no trace. Large uploads are queued; their refusals are recorded on the dataset. The
import itself is geoapp.ingest.runs.run_import, as for the CLI and the worker.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from flask import current_app, g, request
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from geoapp.db.models import Dataset
from geoapp.errors import AppError, InvalidInput
from geoapp.extensions import db
from geoapp.ingest import files, jobs, runs
from geoapp.ingest.request import ImportRequest


def raise_upload_limit() -> None:
    """Let this request's body be as large as an upload may be (set before reading it)."""
    request.max_content_length = current_app.config["GEOAPP_UPLOAD_MAX_MB"] * 1024 * 1024


def save(upload: FileStorage | None, layer: str | None = None) -> Path:
    """The uploaded file saved in a directory of its own, its content checked."""
    if upload is None or not upload.filename:
        raise InvalidInput("choose a file to upload (multipart field 'file')",
                           code="missing_file")
    directory = jobs.upload_dir(current_app) / uuid.uuid4().hex
    directory.mkdir(parents=True)
    target = directory / (secure_filename(upload.filename) or "upload")
    upload.save(target)
    try:
        files.check_upload(target, files.UnpackLimits.from_config(current_app.config), layer)
    except AppError:
        files.remove_tree(directory)
        raise
    return target


def accept(upload: FileStorage | None, import_request: ImportRequest) -> Dataset:
    """A dataset for an upload: imported now when small (AppError if refused), else queued."""
    saved = save(upload, import_request.layer)
    config = current_app.config
    if saved.stat().st_size <= config["GEOAPP_IMPORT_INLINE_MAX_KB"] * 1024:
        try:
            dataset = runs.create_pending(db.session, import_request, saved.name,
                                          g.get("user"))
            runs.run_import(db.session, dataset, saved, import_request,
                            files.UnpackLimits.from_config(config),
                            raster_target=jobs.raster_target(current_app))
        except Exception:
            db.session.rollback()  # run_import did already; this covers create_pending
            raise
        finally:
            files.remove_tree(saved.parent)
        return dataset
    dataset = runs.create_pending(db.session, import_request, saved.name, g.get("user"))
    db.session.commit()
    try:
        jobs.enqueue_import(current_app._get_current_object(), dataset.id, saved,
                            import_request)
    except Exception:
        files.remove_tree(saved.parent)
        runs.fail(db.session, dataset.id, "the import could not be queued; try again")
        raise
    return dataset
