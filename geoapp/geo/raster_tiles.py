"""Map tiles of depth grids (WebMercatorQuad PNGs), coloured by depth class; no Flask.

rio-tiler reads the tile's window of the COG (its overviews at low zooms), reprojected to
Web Mercator; cells without a value are transparent. The classes are declared once here and
drawn in the map's legend from the same list (geoapp.web.api.rasters).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rio_tiler.errors import TileOutsideBounds
from rio_tiler.io import Reader

from geoapp.geo.vertical import VerticalUnit, convert

TILE_SIZE = 256
MIN_ZOOM = 8
MAX_ZOOM = 19


@dataclass(frozen=True)
class DepthClass:
    """Depths from `low` (inclusive) to `high` (exclusive; None: no bound), in feet."""

    low_ft: float
    high_ft: float | None
    colour: tuple[int, int, int]

    @property
    def label(self) -> str:
        """How the legend names the class."""
        if self.high_ft is None:
            return f"{self.low_ft:g} ft and deeper"
        return f"{self.low_ft:g}–{self.high_ft:g} ft"

    @property
    def hex(self) -> str:
        """The colour as #rrggbb."""
        return "#" + "".join(f"{channel:02x}" for channel in self.colour)


# Light to dark blue, as flood depth maps are read: ankle, knee, waist, head, over a storey.
DEPTH_CLASSES = (
    DepthClass(0.0, 1.0, (198, 219, 239)),
    DepthClass(1.0, 2.0, (158, 202, 225)),
    DepthClass(2.0, 4.0, (107, 174, 214)),
    DepthClass(4.0, 6.0, (49, 130, 189)),
    DepthClass(6.0, 10.0, (8, 81, 156)),
    DepthClass(10.0, None, (8, 48, 107)),
)
OPACITY = 200
# Changes with the classes and their colours (part of the tiles' ETag).
LEGEND_VERSION = hashlib.sha256(repr((DEPTH_CLASSES, OPACITY)).encode()).hexdigest()[:8]


def depth_tile(path: Path, unit: str, z: int, x: int, y: int) -> bytes | None:
    """The PNG of one tile of a depth grid, or None where the grid has no cell (GDAL is
    locked down by create_app before any raster is read)."""
    try:
        with Reader(str(path)) as reader:
            image = reader.tile(x, y, z, tilesize=TILE_SIZE, indexes=1,
                                resampling_method="nearest")
            # Stored values times the band's scale plus its offset are the depths.
            scale = float(reader.dataset.scales[0] or 1.0)
            offset = float(reader.dataset.offsets[0] or 0.0)
    except TileOutsideBounds:
        return None
    depth_ft = convert(1.0, VerticalUnit(unit), VerticalUnit.FOOT) * (
        image.data[0].astype("float64") * scale + offset)
    valid = ~np.ma.getmaskarray(image.array[0]) & np.isfinite(depth_ft) & (depth_ft > 0)
    if not valid.any():
        return None
    rgba = np.zeros((4, *depth_ft.shape), dtype="uint8")
    for depth_class in DEPTH_CLASSES:
        inside = valid & (depth_ft >= depth_class.low_ft)
        if depth_class.high_ft is not None:
            inside &= depth_ft < depth_class.high_ft
        for band, channel in enumerate(depth_class.colour):
            rgba[band][inside] = channel
        rgba[3][inside] = OPACITY
    return encode_png(rgba)


def encode_png(rgba: np.ndarray) -> bytes:
    """An RGBA array (4, h, w) as PNG bytes (GDAL's PNG driver, in memory)."""
    from rio_tiler.utils import render

    return render(rgba[:3], mask=rgba[3], img_format="PNG")
