"""Address search for the map's search box, through the configured geocoder."""

from __future__ import annotations

from flask import current_app, request
from flask.typing import ResponseReturnValue

from geoapp.risk.geocoding import search_places
from geoapp.web.api import bp
from geoapp.web.http import json_response
from geoapp.web.params import parse_int
from geoapp.web.serializers import places_json

DEFAULT_PLACES = 5
MAX_PLACES = 10


@bp.get("/geocode")
def geocode() -> ResponseReturnValue:
    """GET /api/geocode?q=..[&limit=5]: places for an address (404 when none is configured)."""
    query = request.args.get("q", "")
    limit = (parse_int(request.args, "limit", minimum=1, maximum=MAX_PLACES)
             if "limit" in request.args else DEFAULT_PLACES)
    config = current_app.config
    places = search_places(config["GEOAPP_GEOCODER_URL"], query, limit=limit,
                           timeout_s=config["GEOAPP_GEOCODER_TIMEOUT_S"])
    return json_response(places_json(query, places))
