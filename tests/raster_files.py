"""Analytic GeoTIFFs for tests, written with rasterio into a test's directory.

A plane DEM in UTM 18N (EPSG:26918) rising from west to east at a known slope, and a depth
grid whose western half is dry (0 or nodata) and eastern half under a known depth: every cell
value is known in advance, so a test computes what the service must answer. Options make the
odd files too: no CRS, several bands, another dtype, a truncated file, a huge declared size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS

# The grid's north-west corner in UTM 18N (near Manasquan, New Jersey), in metres.
WEST = 580_000.0
NORTH = 4_440_000.0
CELL = 10.0
HORIZONTAL = "EPSG:26918"
# The plane DEM: BASE metres at the western edge's cells, SLOPE metres more per metre east.
BASE_M = 1.0
SLOPE = 0.002
# NAVD 88 height (metres), the vertical part of a compound CRS.
NAVD88 = "EPSG:5703"
# NGVD 29 height (US survey feet).
NGVD29_FTUS = "EPSG:5702"
METRES_PER_FOOT = 0.3048

_TO_LONLAT = Transformer.from_crs(HORIZONTAL, "EPSG:4326", always_xy=True)
_TO_UTM = Transformer.from_crs("EPSG:4326", HORIZONTAL, always_xy=True)


@dataclass(frozen=True)
class Grid:
    """Where a test grid lies: its size in cells, its cell size, its north-west corner."""

    width: int = 200
    height: int = 200
    cell: float = CELL
    west: float = WEST
    north: float = NORTH

    @property
    def transform(self) -> Affine:
        return Affine(self.cell, 0.0, self.west, 0.0, -self.cell, self.north)

    def centre(self, col: int, row: int) -> tuple[float, float]:
        """UTM x, y of a cell's centre."""
        return (self.west + (col + 0.5) * self.cell, self.north - (row + 0.5) * self.cell)

    def lonlat(self, col: float, row: float) -> tuple[float, float]:
        """lon, lat of a cell's centre (fractional col/row: any point of the grid)."""
        x = self.west + (col + 0.5) * self.cell
        y = self.north - (row + 0.5) * self.cell
        return _TO_LONLAT.transform(x, y)

    def corner_lonlat(self, x: float, y: float) -> tuple[float, float]:
        """lon, lat of a UTM point."""
        return _TO_LONLAT.transform(x, y)

    def bounds_lonlat(self, margin_cells: float = 0.0) -> tuple[float, float, float, float]:
        """The grid's lon/lat bounds (of its corners), widened by a margin of cells."""
        m = margin_cells * self.cell
        xs = [self.west - m, self.west + self.width * self.cell + m]
        ys = [self.north + m, self.north - self.height * self.cell - m]
        points = [_TO_LONLAT.transform(x, y) for x in xs for y in ys]
        lons, lats = zip(*points, strict=True)
        return min(lons), min(lats), max(lons), max(lats)

    def cell_of(self, lon: float, lat: float) -> tuple[int, int]:
        """The (col, row) of the cell holding a lon/lat point."""
        x, y = _TO_UTM.transform(lon, lat)
        return int(np.floor((x - self.west) / self.cell)), int(np.floor((self.north - y)
                                                                         / self.cell))


def plane_value(grid: Grid, col: int, base: float = BASE_M) -> float:
    """The plane DEM's value (metres, as float32 stores it) in a column."""
    return float(np.float32(base + SLOPE * col * grid.cell))


def plane_values(grid: Grid, dtype: str = "float32", base: float = BASE_M) -> np.ndarray:
    """The plane DEM's cells: base + SLOPE * (distance east of the first column's centre)."""
    row = base + SLOPE * np.arange(grid.width) * grid.cell
    return np.tile(row, (grid.height, 1)).astype(dtype)


def write_tiff(path: Path, data: np.ndarray, grid: Grid, crs: str | None = HORIZONTAL,
               nodata: float | None = None, units: str | None = None,
               tiled: bool = False, **profile: Any) -> Path:
    """A GeoTIFF of `data` (2-D: one band; 3-D: bands first), with GDAL's GTiff driver."""
    bands = data if data.ndim == 3 else data[np.newaxis]
    options: dict[str, Any] = {
        "driver": "GTiff", "width": grid.width, "height": grid.height, "count": len(bands),
        "dtype": str(bands.dtype), "transform": grid.transform,
        "crs": CRS.from_user_input(crs) if crs else None, "nodata": nodata}
    if tiled:
        options.update(tiled=True, blockxsize=256, blockysize=256)
    options.update(profile)
    # A compound CRS is written as such only when GDAL is asked to (GTiff otherwise drops
    # the vertical part).
    with rasterio.Env(GTIFF_REPORT_COMPD_CS="YES"), rasterio.open(path, "w", **options) as dst:
        dst.write(bands)
        if units:
            dst.units = (units,) * len(bands)
    return path


def plane_dem(directory: Path, name: str = "dem.tif", grid: Grid | None = None,
              vertical: str | None = None, units: str | None = None,
              nodata: float | None = None, nodata_cells: tuple[slice, slice] | None = None,
              dtype: str = "float32", bands: int = 1, crs: str | None = HORIZONTAL,
              base: float = BASE_M, **profile: Any) -> Path:
    """The plane DEM (metres, unless the CRS or `units` say otherwise): `vertical` (e.g.
    NAVD88) makes its CRS compound; `units` sets the band's unit; `nodata_cells` (rows, cols)
    are set to `nodata`; `base` is the value of the first column."""
    grid = grid or Grid()
    data = plane_values(grid, dtype, base)
    if nodata_cells is not None:
        if nodata is None:
            raise ValueError("nodata_cells needs a nodata value")
        data[nodata_cells] = nodata
    if bands > 1:
        data = np.stack([data] * bands)
    full_crs = f"{crs}+{vertical.split(':')[-1]}" if crs and vertical else crs
    return write_tiff(directory / name, data, grid, full_crs, nodata, units, **profile)


def step_depth(directory: Path, name: str = "depth.tif", grid: Grid | None = None,
               depth: float = 2.0, dry: float | None = 0.0, nodata: float | None = None,
               units: str | None = None, crs: str | None = HORIZONTAL,
               **profile: Any) -> Path:
    """A depth grid: the western half (columns < width/2) `dry` (0, or None for nodata), the
    eastern half `depth` (in whatever unit the import says)."""
    grid = grid or Grid()
    data = np.full((grid.height, grid.width), depth, dtype="float32")
    if dry is None:
        nodata = -9999.0 if nodata is None else nodata
        data[:, : grid.width // 2] = nodata
    else:
        data[:, : grid.width // 2] = dry
    return write_tiff(directory / name, data, grid, crs, nodata, units, **profile)


def truncated(directory: Path, name: str = "cut.tif", keep: float = 0.5) -> Path:
    """A GeoTIFF whose last bytes are cut off (its header intact, its cells not)."""
    grid = Grid(width=600, height=600)
    rng = np.random.default_rng(7)
    # Noise does not compress: the cells fill most of the file, so the cut falls in them.
    data = rng.random((grid.height, grid.width), dtype="float32")
    path = write_tiff(directory / name, data, grid, tiled=True, compress="deflate")
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])
    return path


def huge(directory: Path, name: str = "huge.tif", side: int = 40_000) -> Path:
    """A GeoTIFF declaring side x side cells that holds almost none (sparse, tiled)."""
    grid = Grid(width=side, height=side, cell=1.0)
    options = {"driver": "GTiff", "width": side, "height": side, "count": 1,
               "dtype": "uint8", "transform": grid.transform,
               "crs": CRS.from_user_input(HORIZONTAL), "tiled": True, "blockxsize": 512,
               "blockysize": 512, "sparse_ok": True, "bigtiff": "YES"}
    with rasterio.open(directory / name, "w", **options):
        pass
    return directory / name


def lonlat_grid(directory: Path, name: str = "world.tif", west: float = -200.0,
                north: float = 10.0, cell: float = 1.0, size: int = 20) -> Path:
    """A small EPSG:4326 grid whose corner may lie off the globe (west < -180)."""
    data = np.ones((size, size), dtype="float32")
    options = {"driver": "GTiff", "width": size, "height": size, "count": 1,
               "dtype": "float32", "transform": Affine(cell, 0.0, west, 0.0, -cell, north),
               "crs": CRS.from_epsg(4326)}
    with rasterio.open(directory / name, "w", **options) as dst:
        dst.write(data, 1)
    return directory / name
