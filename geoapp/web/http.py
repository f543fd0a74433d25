"""The HTTP toolkit every view uses: content negotiation, URLs and links, the one ETag/304
helper, JSON responses through the app's one JSON provider, and sending files.

Views import this and the domain, never each other.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable
from typing import IO, Any, NamedTuple

from flask import Response, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.routing import IntegerConverter
from werkzeug.wsgi import FileWrapper

from geoapp.db.queries import features as features_sql
from geoapp.extensions import db
from geoapp.inputs.params import PG_INTEGER_MAX, parse_choice
from geoapp.ogc import tiles
from geoapp.web.json_provider import COMPACT
from geoapp.web.serializers import link

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
# Small resources change only with the data: clients may keep them, but must ask each time.
REVALIDATE = "public, max-age=0, must-revalidate"
# Bytes read from a file per block sent.
FILE_BLOCK = 1 << 16


# --- negotiation


def accept_prefers_html(alternatives: tuple[str, ...] = (JSON, GEOJSON)) -> bool:
    """Whether the Accept header ranks HTML above every JSON alternative (ties go to JSON)."""
    best = request.accept_mimetypes.best_match([*alternatives, HTML], default=alternatives[0])
    return best == HTML


def wants_html() -> bool:
    """`f=html`, or a browser that prefers HTML and did not ask for JSON."""
    chosen = parse_choice(request.args, "f", ("json", "html"))
    if chosen:
        return chosen == "html"
    return accept_prefers_html()


def html_or_json(payload: Any, template: str, mimetype: str = JSON, **context: Any) -> Response:
    """A resource as HTML (``template`` rendering it as ``data``) or as JSON, as asked."""
    if wants_html():
        return Response(render_template(template, data=payload, **context), mimetype=HTML)
    return json_response(payload, mimetype=mimetype)


# --- URLs and links


def api_url(endpoint: str, **values: Any) -> str:
    """An absolute URL of an endpoint."""
    return url_for(endpoint, _external=True, **values)


def self_links(endpoint: str, json_type: str = JSON, **values: Any) -> list[dict[str, str]]:
    """self/alternate links of a resource in JSON and HTML."""
    return [
        link(api_url(endpoint, **values, f="json"), "self", json_type, "This document as JSON"),
        link(api_url(endpoint, **values, f="html"), "alternate", HTML, "This document as HTML"),
    ]


def answer_as(endpoint: str, **values: Any) -> ResponseReturnValue:
    """What another endpoint answers for these path values (a write answered with the read of
    what it wrote), reached through the app's URL map so views need not import each other."""
    return current_app.view_functions[endpoint](**values)


def tile_url_template(collection_id: str, external: bool = True) -> str:
    """URL template of a collection's vector tiles, ``.../{z}/{y}/{x}`` (TileJSON, Leaflet)."""
    first = url_for("api.tile", collection_id=collection_id, matrix_set=tiles.MATRIX_SET,
                    z=0, y=0, x=0, _external=external)
    return first.rsplit("/0/0/0", 1)[0] + "/{z}/{y}/{x}"


# --- JSON


def json_response(payload: Any, status: int = 200, mimetype: str = JSON,
                  headers: dict[str, str] | None = None) -> Response:
    """A JSON body written by the app's one JSON provider."""
    return current_app.response_class(current_app.json.dumps(payload, separators=COMPACT),
                                      status=status, mimetype=mimetype, headers=headers)


# --- ETag and 304


class DataVersion(NamedTuple):
    """The served data's change counter and the time of its last change."""

    version: int
    changed_at: dt.datetime | None


def data_version() -> DataVersion:
    """(version, changed_at) of the served data: changes on every write to zones or datasets."""
    return DataVersion(*features_sql.current_data_version(db.session))


def request_key(length: int = 16) -> str:
    """A digest of this request's path and query, to tell its representations apart."""
    return hashlib.sha1(request.full_path.encode()).hexdigest()[:length]


def conditional(build: Callable[[DataVersion], Response], key: str, *, prefix: str = "",
                cache_control: str = REVALIDATE) -> Response:
    """A response that depends only on the data version: 304 when the client has it.

    The weak ETag is ``{prefix}{version}-{key}``, so it changes with every write and tells
    apart the representations ``key`` names. A matching If-None-Match is answered before
    ``build`` runs (no query, no rendering); a built response that can be measured is also
    checked against If-Modified-Since and If-Match. A streamed one is sent as built: checking
    it would read the whole stream.
    """
    current = data_version()
    return conditional_on(current, lambda: build(current), key, prefix=prefix,
                          cache_control=cache_control)


def conditional_on(current: DataVersion, build: Callable[[], Response], key: str, *,
                   prefix: str = "", cache_control: str = REVALIDATE) -> Response:
    """`conditional` with the data version already read (with the data, in one statement)."""
    etag = f"{prefix}{current.version}-{key}"
    response = Response(status=304) if request.if_none_match.contains_weak(etag) else build()
    response.set_etag(etag, weak=True)
    if current.changed_at is not None:
        response.last_modified = current.changed_at
    response.headers["Cache-Control"] = cache_control
    if response.is_streamed:
        return response
    return response.make_conditional(request)


# --- files


class FileClosedAtEnd(FileWrapper):
    """A file sent in blocks, closed once read to the end, or when the server closes it."""

    def __next__(self) -> bytes:
        try:
            return super().__next__()
        except StopIteration:
            self.close()
            raise


def send_open_file(handle: IO[bytes], media_type: str, content_disposition: str,
                   etag: str | None = None) -> Response:
    """Send an open file as an attachment: Content-Length, Range, conditional requests."""
    stat = os.fstat(handle.fileno())
    response = current_app.response_class(FileClosedAtEnd(handle, FILE_BLOCK),
                                          mimetype=media_type, direct_passthrough=True)
    response.content_length = stat.st_size
    response.last_modified = dt.datetime.fromtimestamp(int(stat.st_mtime), dt.UTC)
    response.headers["Content-Disposition"] = content_disposition
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


# --- routing


class BoundedIntConverter(IntegerConverter):
    """The ``<int:...>`` route converter, for ASCII digits within PostgreSQL's integer only.

    Werkzeug's matches ``\\d+`` (any script's digits) and has no upper bound; other paths
    answer 404 just the same.
    """

    regex = r"[0-9]+"

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", PG_INTEGER_MAX)
        super().__init__(map, *args, **kwargs)
