"""The JSON API, mounted under /api."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from geoapp.api import datasets, features, geocode, lookup, tiles, tokens, transactions, users  # noqa: E402,F401
