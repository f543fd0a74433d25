"""Reading stored rasters: the cell at a point, the cells at many points, the cells under a
parcel. No database, no Flask.

A stored raster is a Cloud Optimized GeoTIFF in its own CRS (geoapp.ingest.rasters). Query
geometries are transformed to that CRS, never the raster. Datasets stay open per thread and
process (rasterio handles are not shared between threads), so a warm point costs one windowed
read of one cell from GDAL's block cache; many points are grouped by the file's 256-cell
tiles and each tile is read once.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely
import shapely.geometry
from affine import Affine
from pyproj import CRS, Transformer
from rasterio.windows import Window, from_bounds

# Open datasets kept per thread: enough for every raster of a county or two.
OPEN_PER_THREAD = 64
# What a cell without a value is handed to exactextract as.
NO_VALUE = -3.0e38
# A cell counts for the minimum and maximum under a polygon when it covers this share of it.
MIN_COVERAGE_FOR_EXTREMES = 0.01
# Under a parcel, at most this many cells are read (a parcel of 25 km² on a 5 m grid).
MAX_WINDOW_CELLS = 1_000_000

_local = threading.local()


@dataclass(frozen=True)
class RasterFile:
    """What reading needs of a stored raster: its file, its CRS, its nodata value."""

    path: Path
    crs_wkt: str
    nodata: float | None


@dataclass(frozen=True)
class Sample:
    """The value at a point, or why there is none: "outside" the grid or "nodata" there."""

    value: float | None
    missing: str | None = None


@dataclass(frozen=True)
class WindowStats:
    """Cells under a polygon weighted by the share of each cell it covers (exactextract)."""

    covered_area_share: float  # of the polygon's area, on cells of the grid (valid or not)
    wet_area_share: float  # of the polygon's area, on cells with a value above zero
    minimum: float | None  # of the cells with a value above zero
    mean: float | None
    maximum: float | None
    valid_minimum: float | None  # of every cell with a value (a DEM's lowest ground)
    # The polygon's area and its wet area, in the raster CRS's square units.
    area: float = 0.0
    wet_area: float = 0.0


def opened(path: Path) -> rasterio.DatasetReader:
    """The stored raster open for this thread (opened once, kept while used)."""
    cache: OrderedDict[Path, rasterio.DatasetReader] | None = getattr(_local, "open", None)
    if cache is None:
        cache = _local.open = OrderedDict()
    dataset = cache.get(path)
    if dataset is None or dataset.closed:
        dataset = rasterio.open(path, driver="GTiff")
        cache[path] = dataset
        while len(cache) > OPEN_PER_THREAD:
            cache.popitem(last=False)[1].close()
    else:
        cache.move_to_end(path)
    return dataset


def forget(path: Path) -> None:
    """Close this thread's handle of a raster (before its file is removed)."""
    cache = getattr(_local, "open", None)
    if cache and path in cache:
        cache.pop(path).close()


@lru_cache(maxsize=256)
def to_raster_crs(crs_wkt: str) -> Transformer:
    """lon/lat (WGS 84) to a raster's CRS."""
    return Transformer.from_crs(CRS.from_epsg(4326), CRS.from_wkt(crs_wkt), always_xy=True)


@lru_cache(maxsize=256)
def inverse_transform(path: Path, transform: Affine) -> Affine:
    """A raster's map-to-cell transform, kept (inverting costs more than applying)."""
    return ~transform


def is_missing(value: float, nodata: float | None) -> bool:
    """Whether a cell value is no value: the nodata value, NaN or infinite."""
    return not math.isfinite(value) or (nodata is not None and value == nodata)


def sample_point(raster: RasterFile, lon: float, lat: float) -> Sample:
    """The cell value at a point (one windowed read)."""
    dataset = opened(raster.path)
    x, y = to_raster_crs(raster.crs_wkt).transform(lon, lat)
    inverse = inverse_transform(raster.path, dataset.transform)
    col = inverse.a * x + inverse.b * y + inverse.c
    row = inverse.d * x + inverse.e * y + inverse.f
    if not (math.isfinite(col) and math.isfinite(row)):
        return Sample(None, "outside")
    col, row = math.floor(col), math.floor(row)
    if not (0 <= row < dataset.height and 0 <= col < dataset.width):
        return Sample(None, "outside")
    value = float(dataset.read(1, window=Window(col, row, 1, 1))[0, 0])
    if is_missing(value, raster.nodata):
        return Sample(None, "nodata")
    scale, offset = scaling(dataset)
    return Sample(value * scale + offset)


def scaling(dataset: rasterio.DatasetReader) -> tuple[float, float]:
    """The band's scale and offset (an int16 DEM in centimetres says 0.01): stored values
    times the scale plus the offset are the heights. Nodata is the stored value."""
    return float(dataset.scales[0] or 1.0), float(dataset.offsets[0] or 0.0)


def sample_points(raster: RasterFile, lons: np.ndarray, lats: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Cell values at many points (NaN where none) and where they fall outside the grid;
    each of the file's tiles holding a point is read once."""
    dataset = opened(raster.path)
    xs, ys = to_raster_crs(raster.crs_wkt).transform(np.asarray(lons, dtype="float64"),
                                                     np.asarray(lats, dtype="float64"))
    inverse = inverse_transform(raster.path, dataset.transform)
    cols = np.floor(inverse.a * xs + inverse.b * ys + inverse.c)
    rows = np.floor(inverse.d * xs + inverse.e * ys + inverse.f)
    inside = ((cols >= 0) & (cols < dataset.width) & (rows >= 0) & (rows < dataset.height)
              & np.isfinite(cols) & np.isfinite(rows))
    values = np.full(len(xs), np.nan)
    which = np.flatnonzero(inside)
    if which.size == 0:
        return values, ~inside
    cols_in, rows_in = cols[which].astype(np.int64), rows[which].astype(np.int64)
    block_h, block_w = dataset.block_shapes[0]
    blocks_across = -(-dataset.width // block_w)
    block_ids = (rows_in // block_h) * blocks_across + cols_in // block_w
    order = np.argsort(block_ids, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(block_ids[order]) != 0])
    for group in np.split(order, starts[1:]):
        block_row, block_col = divmod(int(block_ids[group[0]]), blocks_across)
        row0, col0 = block_row * block_h, block_col * block_w
        window = Window(col0, row0, min(block_w, dataset.width - col0),
                        min(block_h, dataset.height - row0))
        cells = dataset.read(1, window=window)
        values[which[group]] = cells[rows_in[group] - row0, cols_in[group] - col0]
    missing = ~np.isfinite(values)
    if raster.nodata is not None:
        missing |= values == raster.nodata
    scale, offset = scaling(dataset)
    values = values * scale + offset
    values[missing] = np.nan
    return values, ~inside


def window_stats(raster: RasterFile, polygon: shapely.Geometry,
                 values_of: Callable[[np.ndarray], np.ndarray] | None = None
                 ) -> WindowStats | None:
    """Statistics of the cells under a polygon (lon/lat), each cell weighted by the share of
    it the polygon covers (exactextract); `values_of` turns the cells with a value into what
    is counted (a BFE minus the ground, say). None when the polygon misses the grid or would
    read more than MAX_WINDOW_CELLS cells."""
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    dataset = opened(raster.path)
    transformer = to_raster_crs(raster.crs_wkt)
    projected = shapely.transform(polygon, lambda xy: np.column_stack(
        transformer.transform(xy[:, 0], xy[:, 1])))
    area = projected.area
    on_grid = projected.intersection(shapely.box(*dataset.bounds))
    if area <= 0 or on_grid.is_empty:
        return None
    grid = Window(0, 0, dataset.width, dataset.height)
    window = from_bounds(*on_grid.bounds, transform=dataset.transform)
    window = Window(math.floor(window.col_off), math.floor(window.row_off),
                    math.ceil(window.width) + 1, math.ceil(window.height) + 1)
    window = window.intersection(grid)
    if window.width * window.height > MAX_WINDOW_CELLS:
        return None
    cells = dataset.read(1, window=window).astype("float64")
    missing = ~np.isfinite(cells)
    if raster.nodata is not None:
        missing |= cells == raster.nodata
    scale, offset = scaling(dataset)
    cells = cells * scale + offset
    if values_of is not None:
        cells[~missing] = values_of(cells[~missing])
    cells[missing] = NO_VALUE
    west, south, east, north = rasterio.windows.bounds(window, dataset.transform)
    source = NumPyRasterSource(cells, west, south, east, north, nodata=NO_VALUE)
    feature = {"type": "Feature", "properties": {},
               "geometry": shapely.geometry.mapping(on_grid)}
    found: dict[str, Any] = exact_extract(source, [feature], ["coverage", "values"],
                                          output="geojson")[0]["properties"]
    # Cells without a value are left out of both: for a depth grid they are dry.
    coverage, values = np.asarray(found["coverage"]), np.asarray(found["values"])
    cell_area = abs(dataset.transform.determinant)
    wet = values > 0
    weights = coverage[wet]
    # Extremes come from cells the polygon really covers, not from a sliver of a neighbour
    # that the round trip of its corners through lon/lat grazes.
    counted = coverage >= MIN_COVERAGE_FOR_EXTREMES
    wet_counted = wet & counted
    wet_area = float(weights.sum() * cell_area)
    return WindowStats(
        covered_area_share=min(on_grid.area / area, 1.0),
        wet_area_share=min(wet_area / area, 1.0),
        minimum=float(values[wet_counted].min()) if wet_counted.any() else None,
        mean=float((values[wet] * weights).sum() / weights.sum()) if wet.any() else None,
        maximum=float(values[wet_counted].max()) if wet_counted.any() else None,
        valid_minimum=float(values[counted].min()) if counted.any() else None,
        area=area, wet_area=min(wet_area, area))
