"""Front-end libraries installed from npm at setup and served by the app itself (works offline)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, send_from_directory, url_for
from flask.typing import ResponseReturnValue

bp = Blueprint("assets", __name__)

# Only these packages' dist folders are exposed, never the whole node_modules tree.
SERVED_PREFIXES = (
    "leaflet/dist/", "jquery/dist/", "bootstrap/dist/", "leaflet.vectorgrid/dist/",
    "leaflet-draw/dist/",
    # swagger-ui-dist has no dist folder: its bundle, preset and stylesheet only.
    "swagger-ui-dist/swagger-ui",
)

# Local replacements for the CDN links Folium would otherwise write into the page.
FOLIUM_JS = [("leaflet", "leaflet/dist/leaflet.js"), ("jquery", "jquery/dist/jquery.min.js")]
FOLIUM_CSS = [("leaflet_css", "leaflet/dist/leaflet.css")]
VECTORGRID_JS = "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js"
DRAW_JS = [("leaflet_draw_js", "leaflet-draw/dist/leaflet.draw.js")]
DRAW_CSS = [("leaflet_draw_css", "leaflet-draw/dist/leaflet.draw.css")]


@bp.get("/vendor/<path:filename>")
def vendor(filename: str) -> ResponseReturnValue:
    """Serve one file of an allowed front-end package."""
    if not is_served_asset(filename):
        abort(404)
    return send_from_directory(
        current_app.config["GEOAPP_VENDOR_DIR"], filename, max_age=7 * 24 * 3600
    )


def is_served_asset(filename: str) -> bool:
    """Whether a path under the vendor folder belongs to an allowed package's dist folder."""
    return filename.startswith(SERVED_PREFIXES) and ".." not in filename.split("/")


def vendor_url(filename: str) -> str:
    """URL of a served front-end file, for templates and Folium."""
    return url_for("assets.vendor", filename=filename)
