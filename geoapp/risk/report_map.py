"""The static map of the printable report: the zones around a point, drawn as SVG by PostGIS.

A FIRMette is a fixed map, not a slippy one: server-drawn SVG prints crisply, needs no
JavaScript or tiles (so the PDF renderer can use it too), and looks the same on every device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy.orm import Session

from geoapp.db.queries import report_map as report_map_sql

EARTH_RADIUS_M = 6_378_137.0  # the sphere of EPSG:3857
DEFAULT_HALF_WIDTH_M = 400.0
# Zone labels only where a zone shows at least this share of the map (no clutter).
LABEL_MIN_SHARE = 0.01
NICE_LENGTHS_M = (10, 20, 50, 100, 200, 250, 500, 1000, 2000, 5000)


@dataclass(frozen=True)
class MapShape:
    """One zone clipped to the map: its SVG path (map units) and where to label it."""

    zone: str
    status: str
    path: str
    label_xy: tuple[float, float] | None


@dataclass(frozen=True)
class ReportMap:
    """A square map around a point: size in map units, shapes, the point and a scale bar."""

    size: float
    shapes: list[MapShape]
    point_xy: tuple[float, float]
    scale_length_m: int
    scale_length: float


def web_mercator(lon: float, lat: float) -> tuple[float, float]:
    """EPSG:3857 coordinates of a WGS84 point (spherical formula, exact for 3857)."""
    x = EARTH_RADIUS_M * math.radians(lon)
    y = EARTH_RADIUS_M * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return x, y


def label_position(x: float, y: float, half: float) -> tuple[float, float] | None:
    """Where a zone's label goes in SVG coordinates (its point on surface); None where it
    would cover the location's marker (moving it could put it over another zone)."""
    if math.hypot(x - half, y - half) < half / 8:
        return None
    return x, -y


def report_map(session: Session, lon: float, lat: float,
               half_width_m: float = DEFAULT_HALF_WIDTH_M) -> ReportMap:
    """The zones within `half_width_m` (on the ground) of a point, ready to draw."""
    # Web Mercator stretches distances by 1/cos(latitude): a ground metre is longer in it.
    stretch = 1 / math.cos(math.radians(lat))
    half = half_width_m * stretch
    cx, cy = web_mercator(lon, lat)
    size = 2 * half
    frame = (cx - half, cy - half, cx + half, cy + half)
    rows = session.execute(report_map_sql.report_map_zones(frame, size / 2000)).all()
    shapes = [
        MapShape(zone=row.fld_zone, status=row.risk_status, path=row.path,
                 label_xy=None if row.area < LABEL_MIN_SHARE * size * size
                 or row.label_x is None else label_position(row.label_x, row.label_y, half))
        for row in rows
    ]
    scale_m = max((n for n in NICE_LENGTHS_M if n <= half_width_m / 2),
                  default=NICE_LENGTHS_M[0])
    # ST_AsSVG writes y negated (SVG's y points down), so the map spans y from -size to 0.
    return ReportMap(size=size, shapes=shapes, point_xy=(half, -half),
                     scale_length_m=scale_m, scale_length=scale_m * stretch)
