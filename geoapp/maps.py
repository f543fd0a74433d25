"""The map page: a Folium (Leaflet) map of the flood zones, coloured by risk status.

All map-building code lives here so that the move to vector tiles touches one module.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import folium
from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue
from markupsafe import escape

from geoapp import queries
from geoapp.assets import FOLIUM_CSS, FOLIUM_JS, vendor_url
from geoapp.extensions import db
from geoapp.risk import STATUS_LABELS, STATUS_ORDER, UNMAPPED, zone_status
from geoapp.serializers import feature, feature_collection

bp = Blueprint("maps", __name__)

RISK_COLOURS = {
    "high_risk": "#c6262e",
    "moderate_risk": "#f28f1c",
    "minimal_risk": "#f4d35e",
    "undetermined": "#8e7cc3",
    "open_water": "#4a90d9",
}
# Shown when no dataset is loaded: the contiguous United States.
DEFAULT_CENTRE = (39.5, -98.35)
DEFAULT_ZOOM = 4


def format_bfe(bfe: float | None, unit: str | None, datum: str | None) -> str:
    """'8 Feet NAVD88', or '' when the zone has no base flood elevation."""
    if bfe is None:
        return ""
    return " ".join(part for part in (f"{bfe:g}", unit or "", datum or "") if part)


def zone_map_feature(row: Any) -> dict[str, Any]:
    """A map feature: risk status for styling and pre-escaped popup texts.

    Folium's popups insert field values as HTML, so every text from the data is escaped here.
    """
    status = zone_status(row.fld_zone, row.zone_subty, row.sfha_tf)
    texts = {
        "zone": row.fld_zone,
        "subtype": row.zone_subty or "",
        "bfe": format_bfe(row.static_bfe, row.len_unit, row.v_datum),
        "depth": f"{row.depth:g} {row.len_unit or ''}".strip() if row.depth is not None else "",
        "dataset": row.dataset_name,
        "risk": STATUS_LABELS[status],
    }
    properties = {key: str(escape(value)) for key, value in texts.items()}
    properties["status"] = status
    return feature(row.geojson, properties, fid=row.id)


def style_for(status: str) -> dict[str, Any]:
    """Leaflet path style of a risk status."""
    colour = RISK_COLOURS.get(status, "#999999")
    return {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.45}


def build_zone_map(
    features: list[dict[str, Any]],
    extent: tuple[float, float, float, float] | None,
    basemap_url: str,
    basemap_attribution: str,
) -> folium.Map:
    """A Folium map with one toggleable layer per risk status."""
    fmap = folium.Map(
        location=DEFAULT_CENTRE,
        zoom_start=DEFAULT_ZOOM,
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
    )
    # Assets come from the app itself, not from CDNs, so the map works on closed networks.
    fmap.default_js = [(name, vendor_url(path)) for name, path in FOLIUM_JS]
    fmap.default_css = [(name, vendor_url(path)) for name, path in FOLIUM_CSS]
    if basemap_url:
        folium.TileLayer(
            tiles=basemap_url, attr=basemap_attribution, name="Basemap", max_zoom=19
        ).add_to(fmap)
    by_status: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in features:
        by_status[item["properties"]["status"]].append(item)
    for status in STATUS_ORDER:
        if status == UNMAPPED or not by_status.get(status):
            continue
        folium.GeoJson(
            feature_collection(by_status[status]),
            name=STATUS_LABELS[status],
            style_function=lambda _feature, status=status: style_for(status),
            highlight_function=lambda _feature: {"weight": 3, "fillOpacity": 0.6},
            tooltip=folium.GeoJsonTooltip(fields=["zone", "subtype"], labels=False),
            popup=folium.GeoJsonPopup(
                fields=["zone", "subtype", "risk", "bfe", "depth", "dataset"],
                aliases=["Zone", "Subtype", "Risk", "Base flood elevation", "Depth", "Dataset"],
            ),
        ).add_to(fmap)
    if extent is not None:
        xmin, ymin, xmax, ymax = extent
        fmap.fit_bounds([[ymin, xmin], [ymax, xmax]])
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap


def build_extent_map(
    extent: tuple[float, float, float, float], basemap_url: str, basemap_attribution: str
) -> folium.Map:
    """A small map outlining a dataset's extent."""
    fmap = build_zone_map([], extent, basemap_url, basemap_attribution)
    xmin, ymin, xmax, ymax = extent
    folium.Rectangle([[ymin, xmin], [ymax, xmax]], color="#0d6efd", weight=2, fill=False,
                     tooltip="Extent of the dataset").add_to(fmap)
    return fmap


def render_parts(fmap: folium.Map) -> dict[str, str]:
    """The header tags, body markup and script of a Folium map, to embed in our own page."""
    root = fmap.get_root()
    root.render()
    return {
        "map_header": root.header.render(),
        "map_html": root.html.render(),
        "map_script": root.script.render(),
    }


@bp.get("/")
def index() -> ResponseReturnValue:
    """The public flood map."""
    config = current_app.config
    limit = config["GEOAPP_MAP_MAX_ZONES"]
    rows = db.session.execute(
        queries.zones_for_map(limit + 1, config["GEOAPP_MAP_SIMPLIFY_DEGREES"])
    ).all()
    truncated = len(rows) > limit
    features = [zone_map_feature(row) for row in rows[:limit]]
    extent_row = db.session.execute(queries.active_extent()).one()
    extent = None if extent_row[0] is None else tuple(float(v) for v in extent_row)
    fmap = build_zone_map(
        features, extent, config["GEOAPP_BASEMAP_URL"], config["GEOAPP_BASEMAP_ATTRIBUTION"]
    )
    legend = [(STATUS_LABELS[s], RISK_COLOURS[s]) for s in STATUS_ORDER if s in RISK_COLOURS]
    return render_template(
        "map/index.html",
        legend=legend,
        zone_count=len(features),
        truncated=truncated,
        **render_parts(fmap),
    )
