"""Dataset imports: POST /api/datasets, GET /api/datasets[/{id}] (exports: api/exports.py)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.typing import ResponseReturnValue

from geoapp.db.models import Dataset
from geoapp.db.queries import datasets as datasets_sql
from geoapp.db.queries import rasters as rasters_sql
from geoapp.db.vocabulary import Role
from geoapp.errors import InvalidInput, NotFound
from geoapp.extensions import db
from geoapp.ingest import exports, rasters
from geoapp.ingest.request import ImportRequest
from geoapp.web import uploads
from geoapp.web.api import bp
from geoapp.web.auth import require_role
from geoapp.web.handlers import public_message
from geoapp.web.http import JSON, api_url, json_response
from geoapp.web.serializers import dataset_state_json, link


def dataset_json(dataset: Dataset, raster_ids: list[int] | None = None) -> dict[str, Any]:
    """A dataset's state, import report and links: its export, or its rasters' files."""
    links = [link(api_url("api.dataset_status", dataset_id=dataset.id), "self", JSON)]
    if raster_ids:
        links += [link(api_url("api.raster_file", raster_id=raster_id), "enclosure",
                       rasters.COG_MEDIA_TYPE)
                  for raster_id in raster_ids]
    else:
        links.append(link(api_url("api.dataset_export", dataset_id=dataset.id, format="gpkg"),
                          "enclosure", exports.FORMATS["gpkg"].media_type))
    body = dataset_state_json(dataset, links)
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
@require_role(Role.ANALYST)
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
    return json_response(dataset_json(dataset), status=202, headers={
        "Location": api_url("api.dataset_status", dataset_id=dataset.id)})


@bp.get("/datasets")
def list_datasets() -> ResponseReturnValue:
    """Every dataset with its state, newest first."""
    rows = db.session.scalars(datasets_sql.datasets_newest_first()).all()
    raster_ids = raster_ids_of([d.id for d in rows])
    return json_response({"datasets": [dataset_json(d, raster_ids.get(d.id)) for d in rows]})


def raster_ids_of(dataset_ids: list[int]) -> dict[int, list[int]]:
    """The raster layers' ids of some datasets."""
    found: dict[int, list[int]] = {}
    for layer in db.session.scalars(rasters_sql.rasters_of_datasets(dataset_ids)):
        found.setdefault(layer.dataset_id, []).append(layer.id)
    return found


@bp.get("/datasets/<int:dataset_id>")
def dataset_status(dataset_id: int) -> ResponseReturnValue:
    """A dataset's import state: queued, importing (with progress), ready, failed, retired."""
    dataset = db.session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"no dataset {dataset_id}")
    return json_response(dataset_json(dataset, raster_ids_of([dataset_id]).get(dataset_id)))
