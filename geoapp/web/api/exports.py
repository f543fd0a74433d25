"""Exports written by the worker: GET /api/exports/{id} (state) and /api/exports/{id}/download."""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import IO, Any

from flask import current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.wsgi import FileWrapper

from geoapp.db.models import Dataset, ExportJob
from geoapp.db.vocabulary import ExportStatus
from geoapp.errors import Conflict, NotFound
from geoapp.extensions import db
from geoapp.ingest import export_jobs, exports, jobs
from geoapp.web.api import bp
from geoapp.web.api.features import api_url

# Seconds a client is asked to wait before looking at a pending export again.
RETRY_AFTER_S = 3
# Bytes read from an export file per block sent.
FILE_BLOCK = 1 << 16


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_json(export: ExportJob) -> dict[str, Any]:
    """An export's state and links (the file's link once it is ready)."""
    fmt = exports.FORMATS[export.format]
    links = [
        {"href": api_url("api.export_status", export_id=export.id), "rel": "self",
         "type": "application/json"},
        {"href": api_url("api.dataset_status", dataset_id=export.dataset_id), "rel": "up",
         "type": "application/json"},
    ]
    body: dict[str, Any] = {
        "id": export.id, "dataset_id": export.dataset_id, "format": export.format,
        "status": export.status, "filename": export.filename, "size_bytes": export.size_bytes,
        "created_at": _iso(export.created_at), "finished_at": _iso(export.finished_at),
        "expires_at": _iso(export.expires_at), "error": export.error,
    }
    if export.status == ExportStatus.READY:
        download = api_url("api.export_download", export_id=export.id)
        body["download"] = download
        links.append({"href": download, "rel": "enclosure", "type": fmt.media_type})
    body["links"] = links
    return body


def wants_html() -> bool:
    """A browser following a download link (rather than an API client)."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


def export_answer(export: ExportJob) -> ResponseReturnValue:
    """The answer to an export request handled by the worker.

    Ready: 303 to the file. Otherwise 202 with the export's state and its URL in Location;
    browsers get a page that reloads itself until the file is there.
    """
    if export.status == ExportStatus.READY:
        return redirect(api_url("api.export_download", export_id=export.id), code=303)
    status_url = api_url("api.export_status", export_id=export.id)
    headers = {"Location": status_url, "Retry-After": str(RETRY_AFTER_S)}
    if wants_html():
        dataset = db.session.get(Dataset, export.dataset_id)
        page = render_template("datasets/export_pending.html", export=export, dataset=dataset,
                               refresh_s=RETRY_AFTER_S)
        return page, 202, headers
    response = current_app.response_class(json.dumps(export_json(export)), status=202,
                                          mimetype="application/json")
    response.headers.update(headers)
    return response


class FileClosedAtEnd(FileWrapper):
    """A file sent in blocks, closed once read to the end, or when the server closes it."""

    def __next__(self) -> bytes:
        try:
            return super().__next__()
        except StopIteration:
            self.close()
            raise


def send_open_file(handle: IO[bytes], filename: str, media_type: str,
                   etag: str | None = None) -> ResponseReturnValue:
    """Send an open file as an attachment: Content-Length, Range, conditional requests."""
    stat = os.fstat(handle.fileno())
    response = current_app.response_class(FileClosedAtEnd(handle, FILE_BLOCK),
                                          mimetype=media_type, direct_passthrough=True)
    response.content_length = stat.st_size
    response.last_modified = dt.datetime.fromtimestamp(int(stat.st_mtime), dt.UTC)
    response.headers["Content-Disposition"] = exports.content_disposition(filename)
    response.cache_control.no_cache = True
    if etag:
        response.set_etag(etag)
    try:
        response = response.make_conditional(request.environ, accept_ranges=True,
                                             complete_length=stat.st_size)
    except RequestedRangeNotSatisfiable:
        handle.close()
        raise
    if response.status_code in (304, 412) or request.method == "HEAD":
        handle.close()  # no body is sent
    return response


@bp.get("/exports/<export_id>")
def export_status(export_id: str) -> ResponseReturnValue:
    """An export's state: queued, running, ready (with its download link), failed, expired."""
    return export_json(export_jobs.get_export(db.session, export_id))


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
    return send_open_file(path.open("rb"), export.filename, fmt.media_type, etag=export.id)
