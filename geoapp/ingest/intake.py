"""Taking an upload from a request (web form or API): save, check, queue or import at once.

Everything that can be checked without GDAL is checked before a dataset exists (the file's
content, an archive's entries and the member that will be opened), and a small upload is
imported within the request in one transaction: a refused upload is an error response and
leaves no trace. Large uploads are queued; their refusals are recorded on the dataset.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from flask import current_app, g, request
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from geoapp.db.models import Dataset
from geoapp.errors import AppError, InvalidInput
from geoapp.extensions import db
from geoapp.ingest import imports, jobs, pipeline, uploads


def upload_dir() -> Path:
    """Where uploads wait for the worker."""
    configured = current_app.config["GEOAPP_UPLOAD_DIR"]
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads"


def save(upload: FileStorage | None, layer: str | None = None) -> Path:
    """The uploaded file saved in a directory of its own, its content checked."""
    if upload is None or not upload.filename:
        raise InvalidInput("choose a file to upload (multipart field 'file')",
                           code="missing_file")
    directory = upload_dir() / uuid.uuid4().hex
    directory.mkdir(parents=True)
    target = directory / (secure_filename(upload.filename) or "upload")
    upload.save(target)
    try:
        uploads.check_upload(target, jobs.upload_limits(current_app.config), layer)
    except AppError:
        uploads.remove_tree(directory)
        raise
    return target


def accept(upload: FileStorage | None, options: pipeline.ImportOptions) -> Dataset:
    """A dataset for an upload: imported now when small (AppError if refused), else queued."""
    saved = save(upload, options.layer)
    config = current_app.config
    if saved.stat().st_size <= config["GEOAPP_IMPORT_INLINE_MAX_KB"] * 1024:
        return import_now(saved, options)
    dataset = imports.create_pending(db.session, options, saved.name, g.get("user"))
    db.session.commit()
    try:
        jobs.enqueue_import(current_app._get_current_object(), dataset.id, saved, options)
    except Exception:
        uploads.remove_tree(saved.parent)
        imports.fail(db.session, dataset.id, "the import could not be queued; try again")
        raise
    return dataset


def import_now(saved: Path, options: pipeline.ImportOptions) -> Dataset:
    """Import a small upload within the request: one transaction, nothing left if refused."""
    workdir = Path(tempfile.mkdtemp(prefix="geoapp-import-"))
    try:
        dataset = imports.create_pending(db.session, options, saved.name, g.get("user"))
        imports.run(db.session, dataset, saved, workdir, options,
                    jobs.upload_limits(current_app.config))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        uploads.remove_tree(workdir)
        uploads.remove_tree(saved.parent)
    return dataset


def raise_upload_limit() -> None:
    """Let this request's body be as large as an upload may be (set before reading it)."""
    request.max_content_length = current_app.config["GEOAPP_UPLOAD_MAX_MB"] * 1024 * 1024
