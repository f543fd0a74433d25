"""Dataset imports and exports: POST /api/datasets, GET /api/datasets[/{id}[/export]]."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from flask import Response, current_app, request, stream_with_context
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from geoapp import exports, imports, intake, uploads
from geoapp.api import bp
from geoapp.api.features import api_url
from geoapp.auth import require_role
from geoapp.errors import InvalidInput, NotFound
from geoapp.extensions import db
from geoapp.models import Dataset
from geoapp.params import parse_bool
from geoapp.serializers import dataset_state_json

STREAM_CHUNK = 1 << 16


def dataset_json(dataset: Dataset) -> dict[str, Any]:
    """A dataset's state, import report and links."""
    return dataset_state_json(dataset, [
        {"href": api_url("api.dataset_status", dataset_id=dataset.id), "rel": "self",
         "type": "application/json"},
        {"href": api_url("api.dataset_export", dataset_id=dataset.id, format="gpkg"),
         "rel": "enclosure", "type": exports.FORMATS["gpkg"].media_type},
    ])


def import_form() -> dict[str, Any]:
    """The import fields of a multipart request."""
    for key, values in request.form.lists():
        if len(values) > 1:  # as for query parameters: one value each
            raise InvalidInput(f"field {str(key)[:40]!r} is given {len(values)} times; "
                               "give it once", code="repeated_field")
    form: dict[str, Any] = {key: request.form.get(key) for key in
                            ("name", "effective_date", "source_crs", "encoding", "layer")}
    raw_map = request.form.get("field_map")
    if raw_map:
        try:
            form["field_map"] = current_app.json.loads(raw_map)  # nesting-limited
        except json.JSONDecodeError:
            form["field_map"] = None
        if not isinstance(form["field_map"], dict):  # JSON null, [] or 0 are no mapping either
            raise InvalidInput('field_map must be a JSON object, like {"FLD_ZONE": "ZONE"}',
                               code="invalid_field_mapping")
    form["repair"] = parse_bool(request.form, "repair", default=True)
    return form


@bp.post("/datasets")
@require_role("analyst")
def create_dataset_import() -> ResponseReturnValue:
    """Queue an import; 202 with the status URL (the worker does the work)."""
    intake.raise_upload_limit()
    options = imports.options_from_form(import_form())
    if request.mimetype != "multipart/form-data":
        raise InvalidInput("send the file as multipart/form-data in a field named 'file'",
                           code="missing_file")
    return accepted(intake.accept(request.files.get("file"), options))


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
    """The dataset as a file (format=gpkg|shp|geojson|fgb|csv|kml), streamed."""
    fmt = exports.parse_format(request.args.get("format"))
    workdir = Path(tempfile.mkdtemp(prefix="geoapp-export-"))
    try:
        written = exports.export_dataset(db.session, dataset_id, fmt, workdir)
    except Exception:
        uploads.remove_tree(workdir)
        raise
    db.session.close()

    def chunks():
        try:
            with written.path.open("rb") as handle:
                while chunk := handle.read(STREAM_CHUNK):
                    yield chunk
        finally:
            uploads.remove_tree(workdir)

    response = Response(stream_with_context(chunks()), mimetype=written.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{written.filename}"'
    response.headers["Content-Length"] = str(written.path.stat().st_size)
    return response
