"""Dataset imports and exports: POST /api/datasets, GET /api/datasets[/{id}[/export]]."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from geoapp.db.models import Dataset
from geoapp.errors import InvalidInput, NotFound
from geoapp.extensions import db
from geoapp.ingest import export_jobs, exports, jobs, workdirs
from geoapp.ingest.request import ImportRequest
from geoapp.web import uploads
from geoapp.web.api import bp
from geoapp.web.api import exports as export_views
from geoapp.web.api.features import api_url
from geoapp.web.auth import require_role
from geoapp.web.handlers import public_message
from geoapp.web.serializers import dataset_state_json


def dataset_json(dataset: Dataset) -> dict[str, Any]:
    """A dataset's state, import report and links."""
    body = dataset_state_json(dataset, [
        {"href": api_url("api.dataset_status", dataset_id=dataset.id), "rel": "self",
         "type": "application/json"},
        {"href": api_url("api.dataset_export", dataset_id=dataset.id, format="gpkg"),
         "rel": "enclosure", "type": exports.FORMATS["gpkg"].media_type},
    ])
    if body["error"]:
        # Recorded by a worker, possibly before paths were cut at their source.
        body["error"] = public_message(body["error"])
    return body


def import_fields() -> dict[str, str]:
    """The import fields of a multipart request, each given once."""
    for key, values in request.form.lists():
        if len(values) > 1:  # as for query parameters: one value each
            raise InvalidInput(f"field {str(key)[:40]!r} is given {len(values)} times; "
                               "give it once", code="repeated_field")
    return request.form.to_dict()


@bp.post("/datasets")
@require_role("analyst")
def create_dataset_import() -> ResponseReturnValue:
    """Queue an import; 202 with the status URL (the worker does the work)."""
    uploads.raise_upload_limit()
    import_request = ImportRequest.parse(import_fields(), current_app.json.loads)
    if request.mimetype != "multipart/form-data":
        raise InvalidInput("send the file as multipart/form-data in a field named 'file'",
                           code="missing_file")
    return accepted(uploads.accept(request.files.get("file"), import_request))


def accepted(dataset: Dataset) -> ResponseReturnValue:
    """202 Accepted with the dataset's state and the URL to follow it."""
    response = current_app.response_class(json.dumps(dataset_json(dataset)), status=202,
                                          mimetype="application/json")
    response.headers["Location"] = api_url("api.dataset_status", dataset_id=dataset.id)
    return response


@bp.get("/datasets")
def list_datasets() -> ResponseReturnValue:
    """Every dataset with its state, newest first."""
    rows = db.session.scalars(select(Dataset).order_by(Dataset.id.desc())).all()
    return {"datasets": [dataset_json(d) for d in rows]}


@bp.get("/datasets/<int:dataset_id>")
def dataset_status(dataset_id: int) -> ResponseReturnValue:
    """A dataset's import state: queued, importing (with progress), ready, failed, retired."""
    dataset = db.session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"no dataset {dataset_id}")
    return dataset_json(dataset)


@bp.get("/datasets/<int:dataset_id>/export")
def dataset_export(dataset_id: int) -> ResponseReturnValue:
    """The dataset as a file (format=gpkg|shp|geojson|fgb|csv|kml).

    Small datasets are written during the request; larger ones by the worker: 202 with the
    export's status URL, or 303 to its file once written.
    """
    fmt = exports.parse_format(request.args.get("format"))
    dataset = db.session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"no dataset {dataset_id}")
    config = current_app.config
    if dataset.feature_count <= config["GEOAPP_EXPORT_INLINE_MAX_ZONES"]:
        return inline_export(dataset_id, fmt)
    export, created = export_jobs.request_export(db.session, dataset, fmt)
    if created:
        try:
            jobs.enqueue_export(current_app._get_current_object(), export.id)
        except Exception:
            export_jobs.mark_failed(db.session, export.id, "the export could not be queued")
            raise
    return export_views.export_answer(export)


def inline_export(dataset_id: int, fmt: exports.ExportFormat) -> ResponseReturnValue:
    """Write a small export now and send it.

    The working directory is removed as soon as the file is open: the open handle keeps the
    data until the response is closed, so nothing stays on disk after an aborted download,
    and a killed process leaves only a directory the worker's sweep removes.
    """
    app = current_app._get_current_object()
    directory = workdirs.create(jobs.work_dir(app), jobs.EXPORT_DIR_PREFIX)
    try:
        written = exports.write_export(db.session, dataset_id, fmt, directory.path,
                                       app.config["GEOAPP_EXPORT_BATCH_ZONES"])
        handle = written.path.open("rb")
    finally:
        directory.release()
    db.session.close()
    return export_views.send_open_file(handle, written.filename, written.media_type)
