"""Folium maps built for our pages: the flood map drawing the zones from our vector tiles, and
a dataset's extent map, with the app's own copies of Leaflet and its plugins, over the basemap
of `geoapp.web.basemap` (or a note on the map saying there is none)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from geoapp.db.queries import tiles as tiles_sql
from geoapp.web import basemap as basemaps
from geoapp.web.assets import (
    DRAW_CSS,
    DRAW_JS,
    FOLIUM_CSS,
    FOLIUM_JS,
    PMTILES_JS,
    PROTOMAPS_JS,
    VECTORGRID_JS,
    vendor_url,
)
from geoapp.web.guards.security_headers import add_nonce, csp_nonce

if TYPE_CHECKING:
    import branca.element
    import folium
    import folium.map

# Shown when no dataset is loaded: the contiguous United States.
DEFAULT_CENTRE = (39.5, -98.35)
DEFAULT_ZOOM = 4
MAX_ZOOM = 19
# VectorGrid options as JavaScript: styles come from functions the page defines first
# (static/js/map-style.js), one per layer of the tiles: zones, panel outlines, BFE lines.
# Not interactive: a click anywhere asks /api/lookup (which knows every overlapping zone),
# and VectorGrid 1.3's own click handling calls a Leaflet function that 1.9 no longer has.
ZONE_LAYER_OPTIONS = """{
    rendererFactory: L.canvas.tile,
    interactive: false,
    maxZoom: %(max_zoom)d,
    getFeatureId: function (feature) { return feature.id; },
    vectorTileLayerStyles: {
        %(layer)s: function (properties) { return floodManagerStyle(properties); },
        %(panels)s: function (properties) { return floodManagerPanelStyle(properties); },
        %(bfe_lines)s: function (properties) { return floodManagerBfeStyle(properties); }
    }
}"""
# How each kind of basemap becomes a Leaflet layer: function (url, options) in JavaScript.
BASEMAP_FACTORIES = {
    basemaps.TILES: "L.tileLayer",
    basemaps.MBTILES: "L.tileLayer",
    basemaps.PMTILES_RASTER: ("(function (url, options) { return pmtiles.leafletRasterLayer("
                              "new pmtiles.PMTiles(url), options); })"),
    basemaps.PMTILES_VECTOR: ("(function (url, options) { return protomapsL.leafletLayer("
                              "Object.assign({url: url}, options)); })"),
}
BASEMAP_SCRIPTS = {basemaps.PMTILES_RASTER: [("pmtiles", PMTILES_JS)],
                   basemaps.PMTILES_VECTOR: [("protomaps_leaflet", PROTOMAPS_JS)]}
# protomaps-leaflet's colours for vector archives of the Protomaps basemap schema.
VECTOR_FLAVOR = "light"
NOTE_STYLE = ("background: rgba(255,255,255,.9); padding: 2px 6px; border-radius: 3px; "
              "font: 12px/1.4 system-ui, sans-serif; color: #333; max-width: 22rem;")


def basemap_layer(basemap: basemaps.Basemap) -> folium.map.Layer:
    """The Leaflet layer of a basemap, listed as "Basemap" in the layer control."""
    from folium.elements import JSCSSMixin
    from folium.map import Layer
    from folium.template import Template

    class BasemapLayer(JSCSSMixin, Layer):
        _template = Template("""
            {% macro script(this, kwargs) %}
                var {{ this.get_name() }} = {{ this.factory }}(
                    {{ this.url|tojson }}, {{ this.options|tojson }});
            {% endmacro %}
        """)

        def __init__(self) -> None:
            super().__init__(name="Basemap")
            self._name = "BasemapLayer"
            self.factory = BASEMAP_FACTORIES[basemap.kind]
            self.url = basemaps.leaflet_source(basemap)
            self.default_js = [(name, vendor_url(path))
                               for name, path in BASEMAP_SCRIPTS.get(basemap.kind, [])]
            options: dict[str, object] = {"attribution": basemap.attribution,
                                          "maxZoom": MAX_ZOOM}
            if basemap.kind != basemaps.TILES:
                # Only the zooms the file has: deeper ones scale its deepest tiles up.
                options["minZoom"] = basemap.min_zoom
                if basemap.max_zoom is not None:
                    options["maxNativeZoom" if basemap.kind != basemaps.PMTILES_VECTOR
                            else "maxDataZoom"] = basemap.max_zoom
                if basemap.bounds is not None:
                    west, south, east, north = basemap.bounds
                    options["bounds"] = [[south, west], [north, east]]
            if basemap.kind == basemaps.PMTILES_VECTOR:
                options.update(flavor=VECTOR_FLAVOR, lang="en")
            self.options = options

    return BasemapLayer()


def basemap_note(text: str) -> branca.element.MacroElement:
    """A note in the map's corner saying why it has no background."""
    from branca.element import MacroElement
    from folium.template import Template

    class BasemapNote(MacroElement):
        _template = Template("""
            {% macro script(this, kwargs) %}
                (function () {
                    var note = L.control({position: "bottomright"});
                    note.onAdd = function () {
                        var box = L.DomUtil.create("div", "leaflet-control basemap-note");
                        box.setAttribute("role", "note");
                        box.style.cssText = {{ this.style|tojson }};
                        box.textContent = {{ this.text|tojson }};
                        return box;
                    };
                    note.addTo({{ this._parent.get_name() }});
                })();
            {% endmacro %}
        """)

        def __init__(self) -> None:
            super().__init__()
            self._name = "BasemapNote"
            self.text, self.style = text, NOTE_STYLE

    return BasemapNote()


def new_map(basemap: basemaps.Basemap,
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
    if basemap.kind == basemaps.NONE:
        basemap_note(basemap.note).add_to(fmap)
    else:
        basemap_layer(basemap).add_to(fmap)
    return fmap


def build_zone_map(tile_url: str, extent: tuple[float, float, float, float] | None,
                   basemap: basemaps.Basemap,
                   focus: dict[str, float] | None = None) -> tuple[folium.Map, str]:
    """The flood map (opening on `focus`, else the extent) and the JS name of its zone layer."""
    import folium
    from folium.plugins import Draw, VectorGridProtobuf

    fmap = new_map(basemap, bounds=extent, focus=focus)
    zones = VectorGridProtobuf(
        tile_url, name="Flood zones",
        options=ZONE_LAYER_OPTIONS % {"max_zoom": MAX_ZOOM,
                                      "layer": json.dumps(tiles_sql.TILE_LAYER),
                                      "panels": json.dumps(tiles_sql.PANEL_LAYER),
                                      "bfe_lines": json.dumps(tiles_sql.BFE_LAYER)},
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
    extent: tuple[float, float, float, float], basemap: basemaps.Basemap
) -> folium.Map:
    """A small map outlining a dataset's extent."""
    import folium

    fmap = new_map(basemap, bounds=extent)
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
