"""Front-end libraries installed from npm at setup and served by the app itself (works offline)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, send_from_directory, url_for
from flask.typing import ResponseReturnValue

bp = Blueprint("assets", __name__)

# Only these packages' dist folders are exposed, never the whole node_modules tree.
SERVED_PREFIXES = (
    "leaflet/dist/", "jquery/dist/", "bootstrap/dist/", "leaflet.vectorgrid/dist/",
    "leaflet-draw/dist/",
    # swagger-ui-dist has no dist folder: its bundle, preset and stylesheet only.
    "swagger-ui-dist/swagger-ui",
    # The browser builds (and source maps) that read a PMTiles basemap (geoapp/web/basemap.py).
    "pmtiles/dist/pmtiles.js", "protomaps-leaflet/dist/protomaps-leaflet.js",
)

# Local replacements for the CDN links Folium would otherwise write into the page.
FOLIUM_JS = [("leaflet", "leaflet/dist/leaflet.js"), ("jquery", "jquery/dist/jquery.min.js")]
FOLIUM_CSS = [("leaflet_css", "leaflet/dist/leaflet.css")]
VECTORGRID_JS = "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js"
DRAW_JS = [("leaflet_draw_js", "leaflet-draw/dist/leaflet.draw.js")]
DRAW_CSS = [("leaflet_draw_css", "leaflet-draw/dist/leaflet.draw.css")]
# Raster PMTiles (global `pmtiles`) and vector PMTiles drawn on canvases (global `protomapsL`).
PMTILES_JS = "pmtiles/dist/pmtiles.js"
PROTOMAPS_JS = "protomaps-leaflet/dist/protomaps-leaflet.js"
# What installs them; without them the map pages load but draw nothing.
INSTALL_COMMAND = "npm ci (or make setup)"


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


def missing_packages(vendor_dir: str) -> list[str]:
    """The served front-end packages of which ``vendor_dir`` holds no file to serve."""
    root = Path(vendor_dir)
    # The same rule as serving: a package is there when some file starts with its prefix.
    return [prefix.split("/")[0] for prefix in SERVED_PREFIXES
            if next(root.glob(prefix + "*"), None) is None]


def assets_health(app: Flask) -> dict[str, object]:
    """Whether every served front-end package is installed, and which are not."""
    missing = missing_packages(app.config["GEOAPP_VENDOR_DIR"])
    return {"ok": not missing, "missing": missing}


def warn_if_missing(app: Flask) -> None:
    """Log at start-up, naming the folder and the fix, when front-end packages are missing."""
    vendor_dir = app.config["GEOAPP_VENDOR_DIR"]
    missing = missing_packages(vendor_dir)
    if missing:
        app.logger.warning(
            "front-end packages missing in %s (GEOAPP_VENDOR_DIR): %s; maps will draw nothing "
            "until you run %s", vendor_dir, ", ".join(missing), INSTALL_COMMAND)
