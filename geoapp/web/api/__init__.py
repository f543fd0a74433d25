"""The JSON API, mounted under /api."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from geoapp.web.api import (  # noqa: E402,F401
    datasets,
    exports,
    features,
    geocode,
    lookup,
    rasters,
    tiles,
    tokens,
    transactions,
    users,
)
