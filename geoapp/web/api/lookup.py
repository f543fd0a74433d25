"""Flood determinations: one point, a batch of points, a parcel."""

from __future__ import annotations

import numpy as np
from flask import Response, current_app, request, stream_with_context
from flask.typing import ResponseReturnValue

from geoapp.db.queries.scope import Scope
from geoapp.db.vocabulary import Role
from geoapp.errors import InvalidInput, InvalidParameter, UnsupportedMediaType
from geoapp.extensions import db
from geoapp.geo.vertical import VerticalUnit, parse_datum
from geoapp.ingest import jobs
from geoapp.risk.batch import BatchPoint, points_from_csv, points_from_geojson
from geoapp.risk.depth import (
    DepthRequest,
    FirstFloor,
    PointDepth,
    depths_at_points,
    parcel_depths,
)
from geoapp.risk.determination import (
    Determination,
    current_catalog,
    flood_of_report,
    lookup_and_determine,
    panels_and_communities,
    study_datums,
)
from geoapp.risk.exposure import (
    ParcelLimits,
    parcel_exposure,
    parcel_flood,
    parcel_flood_parts,
    parcel_geometry,
)
from geoapp.risk.lookup import PointReport, lookup_point, lookup_points
from geoapp.web.api import bp
from geoapp.web.auth import read_only, require_role
from geoapp.web.contract.queries import AreaQuery, BatchQuery, PointQuery
from geoapp.web.guards.request_db import single_reads
from geoapp.web.http import api_url, json_response
from geoapp.web.serializers import (
    batch_row,
    exposure_json,
    permalink_args,
    point_report_json,
    stream_batch_csv,
    stream_batch_geojson,
    stream_batch_json,
)

# What a lookup's depth answer was asked in, kept in its permalink.
DEPTH_PARAMETERS = ("unit", "first_floor_elevation", "first_floor_height", "first_floor_datum")
MEDIA_TYPES = {"json": "application/json", "geojson": "application/geo+json", "csv": "text/csv"}


def scope_of(params: PointQuery | BatchQuery | AreaQuery) -> Scope:
    """The maps asked for: `dataset` and `as_of`."""
    return Scope(as_of=params.as_of, dataset=params.dataset)


@bp.get("/lookup")
def lookup() -> ResponseReturnValue:
    """GET /api/lookup?lon=..&lat=..[&dataset=..][&as_of=YYYY-MM-DD][&nearest_radius=m]."""
    params = PointQuery.read(request.args, current_app.config)
    radius = (current_app.config["GEOAPP_NEAREST_RADIUS_M"] if params.nearest_radius is None
              else params.nearest_radius)
    reads = single_reads()
    scope = scope_of(params)
    if params.detail == "zones":
        report = lookup_point(reads, params.lon, params.lat, scope, radius)
        return json_response(point_report_json(report))
    report, determination = lookup_and_determine(
        reads, params.lon, params.lat, scope, radius,
        current_app.config["GEOAPP_BOUNDARY_TOLERANCE_M"], depth=depth_request(params))
    return json_response(point_report_json(report, determination,
                                           permalink(params, determination)))


def depth_request(params: PointQuery | BatchQuery | AreaQuery) -> DepthRequest:
    """Where the rasters are, the unit of heights, the first floor given (one way at most)."""
    floor = None
    elevation = getattr(params, "first_floor_elevation", None)
    height = getattr(params, "first_floor_height", None)
    if elevation is not None and height is not None:
        raise InvalidParameter("give first_floor_elevation or first_floor_height, not both")
    if elevation is not None or height is not None:
        floor = FirstFloor(elevation, height,
                           parse_datum(getattr(params, "first_floor_datum", None))
                           or FirstFloor.datum)
    return DepthRequest(jobs.raster_dir(current_app), VerticalUnit(params.unit or "ft"), floor)


def batch_permalink(point: BatchPoint, determination: Determination, params: BatchQuery) -> str:
    """The permalink of one batch point's determination (a single lookup)."""
    return api_url("api.lookup", **permalink_args(point.lon, point.lat, determination,
                                                  params.dataset))


def permalink(params: PointQuery, determination: Determination) -> str:
    """A URL that answers the same determination later: the point, the day, the maps, and the
    unit and first floor its depths were asked in."""
    asked = {name: getattr(params, name) for name in DEPTH_PARAMETERS
             if getattr(params, name) is not None}
    return api_url("api.lookup", **permalink_args(params.lon, params.lat, determination,
                                                  params.dataset, params.nearest_radius),
                   **asked)


def read_batch(limit: int) -> list[BatchPoint]:
    """The points of a batch request: GeoJSON body, CSV body, or a CSV file upload."""
    mimetype = request.mimetype
    if mimetype in ("application/json", "application/geo+json"):
        body = request.get_json(silent=True)
        if body is None:
            raise InvalidInput("the body is not valid JSON", code="invalid_json")
        return points_from_geojson(body, limit)
    if mimetype in ("text/csv", "text/plain"):
        return points_from_csv(decode_text(request.get_data()), limit)
    if mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise InvalidInput("send the CSV as a form field named 'file'", code="missing_file")
        return points_from_csv(decode_text(upload.read()), limit)
    raise UnsupportedMediaType(
        "send application/geo+json, text/csv or a multipart CSV upload, "
        f"not {mimetype or 'nothing'}"
    )


def decode_text(raw: bytes) -> str:
    """CSV bytes as text: UTF-8 (with or without BOM), else Windows-1252 as spreadsheets write."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def batch_format(params: BatchQuery) -> str:
    """Output format from `f=` or the Accept header (JSON by default)."""
    if params.f:
        return params.f
    best = request.accept_mimetypes.best_match(
        ["application/json", "application/geo+json", "text/csv"], default="application/json"
    )
    return {"application/geo+json": "geojson", "text/csv": "csv"}.get(best, "json")


def batch_depths(scope: Scope, coordinates: list[tuple[float, float]],
                 reports: list[PointReport], request: DepthRequest) -> list[PointDepth | None]:
    """Ground, 1% depth and LOMA flag of every point, from the rasters in scope (none: all
    None, and no raster is opened)."""
    catalog = current_catalog(db.session, scope)
    if not catalog.rasters or not coordinates:
        return [None] * len(coordinates)
    lons = np.fromiter((lon for lon, _ in coordinates), float, len(coordinates))
    lats = np.fromiter((lat for _, lat in coordinates), float, len(coordinates))
    datums = study_datums(catalog)
    return depths_at_points(catalog.rasters, request.root, lons, lats,
                            [flood_of_report(report, datums) for report in reports],
                            request.unit)


@bp.post("/lookup/batch")
@require_role(Role.VIEWER)
def lookup_batch() -> ResponseReturnValue:
    """POST /api/lookup/batch: reports for up to GEOAPP_BATCH_MAX_POINTS points, in input order."""
    params = BatchQuery.read(request.args)
    output = batch_format(params)
    full = params.detail == "full"
    scope = scope_of(params)
    points = read_batch(current_app.config["GEOAPP_BATCH_MAX_POINTS"])
    valid = [p for p in points if p.error is None]
    coordinates = [(p.lon, p.lat) for p in valid]
    workers = current_app.config["GEOAPP_BATCH_WORKERS"]
    reports = lookup_points(db.session, coordinates, scope, workers)
    contexts = panels_and_communities(db.session, coordinates, scope, workers)
    determinations: list[Determination | None] = [None] * len(valid)
    if full:
        # A whole determination per point (its nearest SFHA zone, BFE estimate, boundary).
        tolerance = current_app.config["GEOAPP_BOUNDARY_TOLERANCE_M"]
        radius = current_app.config["GEOAPP_NEAREST_RADIUS_M"]
        depth = depth_request(params)
        answered = [lookup_and_determine(db.session, lon, lat, scope, radius, tolerance,
                                         depth=depth) for lon, lat in coordinates]
        reports = [report for report, _ in answered]
        determinations = [determination for _, determination in answered]
    depths = batch_depths(scope, coordinates, reports, depth_request(params))
    db.session.close()  # the reports are plain data: give the connection back before streaming
    answers = iter(zip(reports, contexts, determinations, depths, strict=True))
    paired = []
    for point in points:
        if point.error:
            paired.append((point, batch_row(point, None, full)))
            continue
        report, context, determination, depth = next(answers)
        link = (batch_permalink(point, determination, params) if determination else None)
        paired.append((point, batch_row(point, report, full, context, determination, link,
                                        depth)))
    if output == "geojson":
        body = stream_batch_geojson(paired)
    elif output == "csv":
        extra = list(dict.fromkeys(k for p in points for k in p.properties))
        body = stream_batch_csv(paired, extra)
    else:
        body = stream_batch_json((row for _, row in paired), len(paired))
    return Response(stream_with_context(body), mimetype=MEDIA_TYPES[output])


@bp.post("/lookup/area")
@read_only
def lookup_area() -> ResponseReturnValue:
    """POST /api/lookup/area: how much of a parcel (GeoJSON Polygon, CRS84) is in each zone."""
    body = request.get_json(silent=True)
    if body is None:
        raise InvalidInput(
            "the body must be a GeoJSON Polygon or MultiPolygon", code="invalid_json"
        )
    params = AreaQuery.read(request.args)
    geometry, repaired = parcel_geometry(body, params.repair,
                                         ParcelLimits.from_config(current_app.config))
    scope = scope_of(params)
    exposure = parcel_exposure(db.session, geometry, repaired, scope)
    catalog = current_catalog(db.session, scope)
    depths = None
    if catalog.rasters:
        request_depth = depth_request(params)
        datums = study_datums(catalog)
        depths = parcel_depths(catalog.rasters, request_depth.root, geometry,
                               parcel_flood(exposure, datums), request_depth.unit,
                               parcel_flood_parts(db.session, geometry, scope, datums))
    return json_response(exposure_json(exposure, depths))
