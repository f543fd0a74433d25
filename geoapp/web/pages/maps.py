"""The map page (a Folium map drawing the zones from our vector tiles, built in
``geoapp.web.folium_maps``) and the printable report (a static SVG map, as HTML or PDF).

The page's size does not depend on the data: zones arrive as tiles, the point report as JSON
when the map is clicked.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue

from geoapp.db.queries import datasets as datasets_sql
from geoapp.db.queries.scope import Scope
from geoapp.extensions import db
from geoapp.ingest import jobs
from geoapp.inputs.params import (
    parse_choice,
    parse_dataset_reference,
    parse_date,
    parse_float,
    parse_lon_lat,
)
from geoapp.nfhl.status import STATUS_LABELS, STATUS_ORDER, RiskStatus
from geoapp.ogc.collections import FLOOD_ZONES
from geoapp.risk.depth import DepthRequest
from geoapp.risk.determination import lookup_and_determine
from geoapp.risk.report_map import DEFAULT_HALF_WIDTH_M, report_map
from geoapp.web.assets import is_served_asset
from geoapp.web.basemap import current_basemap
from geoapp.web.folium_maps import MAX_ZOOM, build_zone_map, render_parts
from geoapp.web.http import tile_url_template
from geoapp.web.pdf import html_to_pdf, local_fetcher
from geoapp.web.serializers import permalink_args, point_report_json

bp = Blueprint("maps", __name__)

RISK_COLOURS = {
    RiskStatus.HIGH_RISK: "#c6262e",
    RiskStatus.MODERATE_RISK: "#f28f1c",
    RiskStatus.MINIMAL_RISK: "#f4d35e",
    RiskStatus.UNDETERMINED: "#8e7cc3",
    RiskStatus.OPEN_WATER: "#4a90d9",
}
REPORT_FORMATS = ("html", "pdf")
# The report's map is drawn in Web Mercator, which ends here (and has no poles).
REPORT_MAX_LAT = 85.05112878


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
    fmap, layer_name = build_zone_map(tile_url_template(FLOOD_ZONES.id, external=False), extent,
                                      current_basemap(), focus)
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
    scope = Scope(as_of=parse_date(request.args, "as_of"),
                  dataset=parse_dataset_reference(request.args, "dataset"))
    zones, determination = lookup_and_determine(
        db.session, lon, lat, scope, current_app.config["GEOAPP_NEAREST_RADIUS_M"],
        current_app.config["GEOAPP_BOUNDARY_TOLERANCE_M"],
        depth=DepthRequest(jobs.raster_dir(current_app)))
    args = permalink_args(lon, lat, determination, scope.dataset)
    point_report = point_report_json(zones, determination,
                                     url_for("api.lookup", _external=True, **args))
    html = render_template(
        "map/report.html",
        report=point_report,
        map=report_map(db.session, lon, lat),
        half_width_m=DEFAULT_HALF_WIDTH_M,
        colours=RISK_COLOURS,
        status_labels=STATUS_LABELS,
        pdf=output == "pdf",
        permalink=url_for("maps.report", _external=True, **args),
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
