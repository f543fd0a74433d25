"""The map page (a Folium map drawing the zones from our vector tiles) and the printable
report (a static SVG map, as HTML or PDF).

The page's size does not depend on the data: zones arrive as tiles, the point report as JSON
when the map is clicked. All map-building code lives in this module.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue

from geoapp.db.queries import datasets as datasets_sql
from geoapp.db.queries import tiles as tiles_sql
from geoapp.extensions import db
from geoapp.nfhl.status import STATUS_LABELS, STATUS_ORDER, RiskStatus
from geoapp.risk.lookup import lookup_point
from geoapp.risk.report_map import DEFAULT_HALF_WIDTH_M, report_map
from geoapp.web.assets import (
    DRAW_CSS,
    DRAW_JS,
    FOLIUM_CSS,
    FOLIUM_JS,
    VECTORGRID_JS,
    is_served_asset,
    vendor_url,
)
from geoapp.web.params import parse_choice, parse_float, parse_lon_lat
from geoapp.web.pdf import html_to_pdf, local_fetcher
from geoapp.web.security_headers import add_nonce, csp_nonce
from geoapp.web.serializers import point_report_json

if TYPE_CHECKING:
    import folium

bp = Blueprint("maps", __name__)

RISK_COLOURS = {
    RiskStatus.HIGH_RISK: "#c6262e",
    RiskStatus.MODERATE_RISK: "#f28f1c",
    RiskStatus.MINIMAL_RISK: "#f4d35e",
    RiskStatus.UNDETERMINED: "#8e7cc3",
    RiskStatus.OPEN_WATER: "#4a90d9",
}
# Shown when no dataset is loaded: the contiguous United States.
DEFAULT_CENTRE = (39.5, -98.35)
DEFAULT_ZOOM = 4
MAX_ZOOM = 19
REPORT_FORMATS = ("html", "pdf")
# The report's map is drawn in Web Mercator, which ends here (and has no poles).
REPORT_MAX_LAT = 85.05112878
# VectorGrid options as JavaScript: styles come from a function the page defines first.
# Not interactive: a click anywhere asks /api/lookup (which knows every overlapping zone),
# and VectorGrid 1.3's own click handling calls a Leaflet function that 1.9 no longer has.
ZONE_LAYER_OPTIONS = """{
    rendererFactory: L.canvas.tile,
    interactive: false,
    maxZoom: %(max_zoom)d,
    getFeatureId: function (feature) { return feature.id; },
    vectorTileLayerStyles: {%(layer)s: function (properties) {
        return floodManagerStyle(properties);
    }}
}"""


def new_map(basemap_url: str, basemap_attribution: str,
            bounds: tuple[float, float, float, float] | None = None,
            focus: dict[str, float] | None = None) -> folium.Map:
    """An empty Folium map using the app's own copies of Leaflet and friends.

    Its first view is a shared point (`focus`), else `bounds`, else the default. It is set
    before any layer is added: a layer added to a map already showing the default view
    would fetch that view's tiles first, only to drop them.
    """
    import folium  # imported on first use: 0.2 s that CLI commands and the API never need

    centre, zoom = DEFAULT_CENTRE, DEFAULT_ZOOM
    if focus is not None:
        centre, zoom = (focus["lat"], focus["lon"]), focus["zoom"]
    fmap = folium.Map(location=centre, zoom_start=zoom, tiles=None, control_scale=True,
                      max_zoom=MAX_ZOOM)
    # Assets come from the app itself, not from CDNs, so the map works on closed networks.
    fmap.default_js = [(name, vendor_url(path)) for name, path in FOLIUM_JS]
    fmap.default_css = [(name, vendor_url(path)) for name, path in FOLIUM_CSS]
    if focus is None and bounds is not None:
        xmin, ymin, xmax, ymax = bounds
        fmap.fit_bounds([[ymin, xmin], [ymax, xmax]])
    if basemap_url:
        folium.TileLayer(tiles=basemap_url, attr=basemap_attribution, name="Basemap",
                         max_zoom=MAX_ZOOM).add_to(fmap)
    return fmap


def build_zone_map(tile_url: str, extent: tuple[float, float, float, float] | None,
                   basemap_url: str, basemap_attribution: str,
                   focus: dict[str, float] | None = None) -> tuple[folium.Map, str]:
    """The flood map (opening on `focus`, else the extent) and the JS name of its zone layer."""
    import folium
    from folium.plugins import Draw, VectorGridProtobuf

    fmap = new_map(basemap_url, basemap_attribution, bounds=extent, focus=focus)
    zones = VectorGridProtobuf(
        tile_url, name="Flood zones",
        options=ZONE_LAYER_OPTIONS % {"max_zoom": MAX_ZOOM,
                                      "layer": json.dumps(tiles_sql.TILE_LAYER)},
    )
    zones.default_js = [("vectorGrid", vendor_url(VECTORGRID_JS))]
    zones.add_to(fmap)
    # Draw a parcel (polygon or rectangle): the page asks /api/lookup/area about it.
    draw = Draw(
        position="topleft",
        draw_options={"polyline": False, "circle": False, "marker": False,
                      "circlemarker": False, "rectangle": {"showArea": False},
                      "polygon": {"allowIntersection": False, "showArea": False}},
        edit_options={"edit": False, "remove": True},
    )
    draw.default_js = [(name, vendor_url(path)) for name, path in DRAW_JS]
    draw.default_css = [(name, vendor_url(path)) for name, path in DRAW_CSS]
    draw.add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap, zones.get_name()


def build_extent_map(
    extent: tuple[float, float, float, float], basemap_url: str, basemap_attribution: str
) -> folium.Map:
    """A small map outlining a dataset's extent."""
    import folium

    fmap = new_map(basemap_url, basemap_attribution, bounds=extent)
    xmin, ymin, xmax, ymax = extent
    folium.Rectangle([[ymin, xmin], [ymax, xmax]], color="#0d6efd", weight=2, fill=False,
                     tooltip="Extent of the dataset").add_to(fmap)
    return fmap


def render_parts(fmap: folium.Map) -> dict[str, str]:
    """The header tags, body markup and script of a Folium map, to embed in our own page.

    The script changes with every map (element ids, bounds), so it stays inline: its tags in
    the header get this request's CSP nonce here, the page gives it to the main script.
    """
    root = fmap.get_root()
    root.render()
    nonce = csp_nonce()
    return {
        "map_header": add_nonce(root.header.render(), nonce),
        "map_html": add_nonce(root.html.render(), nonce),
        "map_script": root.script.render(),
    }


def tile_url_template() -> str:
    """The URL template of the zone tiles, for Leaflet."""
    first = url_for("api.tile", collection_id="flood_zones", matrix_set="WebMercatorQuad",
                    z=0, y=0, x=0)
    return first.rsplit("/0/0/0", 1)[0] + "/{z}/{y}/{x}"


def focus_from_args(args: Any) -> dict[str, float] | None:
    """`?lon=..&lat=..&zoom=..` of a shared link, checked; None when absent."""
    if args.get("lon") is None and args.get("lat") is None:
        return None
    lon, lat = parse_lon_lat(args)
    zoom = parse_float(args, "zoom", minimum=0, maximum=MAX_ZOOM) if args.get("zoom") else 15.0
    return {"lon": lon, "lat": lat, "zoom": zoom}


@bp.get("/")
def index() -> ResponseReturnValue:
    """The public flood map (tiles, click for a report, shareable ?lon=&lat=&zoom=)."""
    config = current_app.config
    focus = focus_from_args(request.args)
    extent_row = db.session.execute(datasets_sql.active_extent()).one()
    extent = None if extent_row[0] is None else tuple(float(v) for v in extent_row)
    fmap, layer_name = build_zone_map(tile_url_template(), extent, config["GEOAPP_BASEMAP_URL"],
                                      config["GEOAPP_BASEMAP_ATTRIBUTION"], focus)
    legend = [(status, STATUS_LABELS[status], RISK_COLOURS[status])
              for status in STATUS_ORDER if status in RISK_COLOURS]
    datasets = db.session.execute(datasets_sql.active_datasets()).all()
    return render_template(
        "map/index.html",
        legend=legend,
        colours=RISK_COLOURS,
        map_name=fmap.get_name(),
        layer_name=layer_name,
        focus=focus,
        datasets=datasets,
        has_data=extent is not None,
        geocoder=bool(config["GEOAPP_GEOCODER_URL"]),
        **render_parts(fmap),
    )


def report_point(args: Any) -> tuple[float, float]:
    """`lon` and `lat` of a report: WGS84, within the latitudes its Web Mercator map covers."""
    lon = parse_float(args, "lon", minimum=-180.0, maximum=180.0)
    lat = parse_float(args, "lat", minimum=-REPORT_MAX_LAT, maximum=REPORT_MAX_LAT)
    return lon, lat


@bp.get("/report")
def report() -> ResponseReturnValue:
    """A printable one-page flood determination for a point (HTML, or PDF with format=pdf)."""
    lon, lat = report_point(request.args)
    output = parse_choice(request.args, "format", REPORT_FORMATS, default="html")
    point_report = point_report_json(lookup_point(db.session, lon, lat))
    html = render_template(
        "map/report.html",
        report=point_report,
        map=report_map(db.session, lon, lat),
        half_width_m=DEFAULT_HALF_WIDTH_M,
        colours=RISK_COLOURS,
        status_labels=STATUS_LABELS,
        pdf=output == "pdf",
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
    if output == "html":
        return html
    vendor_prefix = url_for("assets.vendor", filename="")
    fetcher = local_fetcher(request.host_url, vendor_prefix,
                            Path(current_app.config["GEOAPP_VENDOR_DIR"]), is_served_asset)
    name = f"flood-report-{lat:.5f}-{lon:.5f}.pdf"
    return Response(html_to_pdf(html, request.host_url, fetcher), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})
