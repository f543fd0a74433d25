"""Point lookup: which flood zones cover a location."""

from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from geoapp.api import bp
from geoapp.extensions import db
from geoapp.lookup import lookup_point
from geoapp.params import parse_lon_lat
from geoapp.serializers import point_report_json


@bp.get("/lookup")
def lookup() -> ResponseReturnValue:
    """GET /api/lookup?lon=..&lat=.. : the zones at a point and its flood risk status."""
    lon, lat = parse_lon_lat(request.args)
    return jsonify(point_report_json(lookup_point(db.session, lon, lat)))
