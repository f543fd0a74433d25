"""Dataset exports: GET /api/datasets/{id}/export (written now, or by the worker), and the
worker's exports: GET /api/exports/{id} (state) and /api/exports/{id}/download."""

from __future__ import annotations

from typing import IO, Any

from flask import current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue

from geoapp.db.models import Dataset, ExportJob
from geoapp.db.queries import rasters as rasters_sql
from geoapp.db.vocabulary import ExportStatus
from geoapp.errors import Conflict, NotFound
from geoapp.extensions import db
from geoapp.ingest import export_jobs, exports, jobs, workdirs
from geoapp.web.api import bp
from geoapp.web.contract.queries import ExportQuery
from geoapp.web.http import JSON, accept_prefers_html, api_url, json_response, send_open_file
from geoapp.web.serializers import export_json as export_body
from geoapp.web.serializers import link

# Seconds a client is asked to wait before looking at a pending export again.
RETRY_AFTER_S = 3


def export_json(export: ExportJob) -> dict[str, Any]:
    """An export's state and links (the file's link once it is ready)."""
    links = [
        link(api_url("api.export_status", export_id=export.id), "self", JSON),
        link(api_url("api.dataset_status", dataset_id=export.dataset_id), "up", JSON),
    ]
    download = None
    if export.status == ExportStatus.READY:
        download = api_url("api.export_download", export_id=export.id)
        links.append(link(download, "enclosure", exports.FORMATS[export.format].media_type))
    return export_body(export, links, download)


def export_answer(export: ExportJob) -> ResponseReturnValue:
    """The answer to an export request handled by the worker.

    Ready: 303 to the file. Otherwise 202 with the export's state and its URL in Location;
    browsers get a page that reloads itself until the file is there.
    """
    if export.status == ExportStatus.READY:
        return redirect(api_url("api.export_download", export_id=export.id), code=303)
    status_url = api_url("api.export_status", export_id=export.id)
    headers = {"Location": status_url, "Retry-After": str(RETRY_AFTER_S)}
    # A browser following a download link (rather than an API client) gets a page.
    if accept_prefers_html((JSON,)):
        dataset = db.session.get(Dataset, export.dataset_id)
        page = render_template("datasets/export_pending.html", export=export, dataset=dataset,
                               refresh_s=RETRY_AFTER_S)
        return page, 202, headers
    return json_response(export_json(export), status=202, headers=headers)


def send_file_of(handle: IO[bytes], filename: str, media_type: str,
                 etag: str | None = None) -> ResponseReturnValue:
    """Send an open export file as an attachment named ``filename``."""
    return send_open_file(handle, media_type, exports.content_disposition(filename), etag)


@bp.get("/datasets/<int:dataset_id>/export")
def dataset_export(dataset_id: int) -> ResponseReturnValue:
    """The dataset as a file (format=gpkg|shp|geojson|fgb|csv|kml).

    Small datasets are written during the request; larger ones by the worker: 202 with the
    export's status URL, or 303 to its file once written.
    """
    fmt = ExportQuery.read(request.args).format
    dataset = db.session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"no dataset {dataset_id}")
    if db.session.scalars(rasters_sql.rasters_of_datasets([dataset_id])).first() is not None:
        raise NotFound(f"dataset {dataset_id} is a raster: download it from its enclosure link "
                       "(/api/rasters/{id}/file)", code="raster_dataset")
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
    return export_answer(export)


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
    return send_file_of(handle, written.filename, written.media_type)


@bp.get("/exports/<export_id>")
def export_status(export_id: str) -> ResponseReturnValue:
    """An export's state: queued, running, ready (with its download link), failed, expired."""
    return json_response(export_json(export_jobs.get_export(db.session, export_id)))


@bp.get("/exports/<export_id>/download")
def export_download(export_id: str) -> ResponseReturnValue:
    """The file of a ready export (conditional requests and Range supported)."""
    export = export_jobs.get_export(db.session, export_id)
    if export.status in (ExportStatus.QUEUED, ExportStatus.RUNNING):
        raise Conflict(f"export {export_id} is {export.status}; follow its status URL",
                       code="export_not_ready")
    path = export_jobs.export_file(jobs.export_dir(current_app), export)
    if path is None:
        raise NotFound(f"export {export_id} is {export.status} and has no file; ask for the "
                       "dataset's export again", code="export_gone")
    fmt = exports.FORMATS[export.format]
    # The export id names one written file for good, so it is a strong validator.
    return send_file_of(path.open("rb"), export.filename, fmt.media_type, etag=export.id)
