"""Address search for the map's search box, through the configured geocoder."""

from __future__ import annotations

from flask import current_app, request
from flask.typing import ResponseReturnValue

from geoapp.risk.geocoding import search_places
from geoapp.web.api import bp
from geoapp.web.contract.queries import GeocodeQuery
from geoapp.web.http import json_response
from geoapp.web.serializers import places_json


@bp.get("/geocode")
def geocode() -> ResponseReturnValue:
    """GET /api/geocode?q=..[&limit=5]: places for an address (404 when none is configured)."""
    params = GeocodeQuery.read(request.args)
    config = current_app.config
    places = search_places(config["GEOAPP_GEOCODER_URL"], params.q, limit=params.limit,
                           timeout_s=config["GEOAPP_GEOCODER_TIMEOUT_S"])
    return json_response(places_json(params.q, places))
