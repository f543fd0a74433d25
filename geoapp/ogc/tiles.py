"""Vector tiles of the flood zones (WebMercatorQuad), light at every zoom level; from a zoom at
which they can be told apart, the FIRM panels and BFE lines are layers of the same tiles."""

from __future__ import annotations

import math
from collections import OrderedDict
from threading import Lock

from sqlalchemy.orm import Session

from geoapp.db.queries import tiles as tiles_sql
from geoapp.errors import InvalidParameter

# The one tile matrix set served (OGC API - Tiles' name for Web Mercator tiles).
MATRIX_SET = "WebMercatorQuad"
MAX_ZOOM = 22
# Up to this zoom a pixel is wider than the overview's tolerance: tiles use the overview.
OVERVIEW_MAX_ZOOM = 9
# Grid units per screen pixel (a 4096-unit tile is drawn 256 pixels wide).
PIXEL_UNITS = 16
# Simplification tolerance in pixels: a quarter of a pixel (invisible) where people look at
# boundaries; a whole pixel at overview zooms, where a view holds tens of thousands of zones
# and every vertex costs the browser time to decode and draw (3x fewer than at a quarter).
STREET_TOLERANCE_PX = 0.25
OVERVIEW_TOLERANCE_PX = 1.0
# Coarsening factors tried in turn until a tile fits the size budget.
TOLERANCE_STEPS = (1.0, 4.0, 16.0)
# The zoom from which a tile also holds the panel outlines (a county's panels are a few
# kilometres across), and the BFE lines (street zooms: they are tens of metres apart).
PANEL_MIN_ZOOM = 10
BFE_MIN_ZOOM = 13


def check_tile(z: int, x: int, y: int) -> None:
    """Refuse tile coordinates outside the WebMercatorQuad matrix."""
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidParameter(f"zoom must be between 0 and {MAX_ZOOM}, got {z}")
    size = 2**z
    if not (0 <= x < size and 0 <= y < size):
        raise InvalidParameter(f"tile {z}/{y}/{x} is outside the matrix (0..{size - 1})")


def tile_containing(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The (column, row) of the WebMercatorQuad tile of zoom `z` holding a point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def grid_unit_deg(z: int) -> float:
    """Degrees of longitude per MVT grid unit at a zoom level."""
    return 360.0 / 2**z / tiles_sql.MVT_EXTENT


def render_tile(session: Session, z: int, x: int, y: int, max_bytes: int) -> bytes:
    """The tile's bytes (empty when nothing is in it), simplified until under `max_bytes`.

    A tile is shown 256 pixels wide, so a pixel is 16 grid units. Geometry is simplified by a
    quarter of a pixel (a whole one at overview zooms) and polygons less than a pixel across
    are dropped; a tile still over budget is rebuilt coarser. Its layers: the zones, then
    from PANEL_MIN_ZOOM the panels, from BFE_MIN_ZOOM the BFE lines (drawn in that order).
    """
    check_tile(z, x, y)
    pixel = grid_unit_deg(z) * PIXEL_UNITS
    overview = z <= OVERVIEW_MAX_ZOOM
    tolerance_px = OVERVIEW_TOLERANCE_PX if overview else STREET_TOLERANCE_PX
    data = b""
    for factor in TOLERANCE_STEPS:
        tolerance = pixel * tolerance_px * factor
        min_area = (pixel * factor) ** 2
        layers = [tiles_sql.zone_tile(z, x, y, tolerance, min_area, overview)]
        if z >= PANEL_MIN_ZOOM:
            layers.append(tiles_sql.panel_tile(z, x, y, tolerance))
        if z >= BFE_MIN_ZOOM:
            layers.append(tiles_sql.bfe_line_tile(z, x, y, tolerance))
        statement = tiles_sql.layered_tile(layers)
        data = bytes(session.connection().scalar(statement) or b"")  # Core: one bytea
        if len(data) <= max_bytes:
            break
    return data


class TileCache:
    """Recently made tiles of this process, keyed by data version and tile, within a byte budget.

    A new data version makes every older entry unreachable; they age out as new tiles come.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: OrderedDict[tuple[str, int, int, int], bytes] = OrderedDict()
        self.lock = Lock()

    def get(self, key: tuple[str, int, int, int]) -> bytes | None:
        """A cached tile, or None."""
        with self.lock:
            data = self.entries.get(key)
            if data is not None:
                self.entries.move_to_end(key)
            return data

    def put(self, key: tuple[str, int, int, int], data: bytes) -> None:
        """Remember a tile, evicting the least recently used ones over the budget."""
        if self.max_bytes <= 0 or len(data) > self.max_bytes:
            return  # no cache (an empty tile, 0 bytes, fits even a budget of 0)
        with self.lock:
            if key in self.entries:
                return
            self.entries[key] = data
            self.size += len(data)
            while self.size > self.max_bytes:
                _, old = self.entries.popitem(last=False)
                self.size -= len(old)
