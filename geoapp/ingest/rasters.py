"""Importing a raster (a DEM, or an event's depth or water-surface grid) as a dataset version.

The upload is opened with GDAL's GTiff driver only (rasterio's copy of GDAL, locked down by
geoapp.ingest.gdal_safety), checked — a CRS, one band, a known vertical unit, a size within
GEOAPP_RASTER_MAX_CELLS, a footprint on the globe — and rewritten as a Cloud Optimized
GeoTIFF (GDAL's COG driver: 256-cell tiles, DEFLATE, overviews) under GEOAPP_RASTER_DIR.
The file is written under `.partial/` and moved beside the others just before the dataset's
transaction commits; on any error both are removed, and a retried import first removes what
a killed one left. What a file cannot say (its vertical datum, its unit) the request must.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from pyproj import CRS
from rasterio._err import CPLE_BaseError
from rasterio.errors import RasterioError
from rasterio.warp import transform_bounds
from sqlalchemy.orm import Session

from geoapp.db.models import Dataset, RasterLayer
from geoapp.db.queries import imports as imports_sql
from geoapp.db.queries import rasters as rasters_sql
from geoapp.db.queries import shapes as shapes_sql
from geoapp.db.vocabulary import DatasetStatus, RasterKind
from geoapp.errors import InvalidInput, PayloadTooLarge
from geoapp.geo.vertical import VerticalUnit, parse_datum, parse_unit
from geoapp.ingest import gdal_safety
from geoapp.ingest.request import ImportRequest

SUFFIXES = {".tif", ".tiff"}
# The stored files' media type (OGC's GeoTIFF registration, cloud-optimized profile).
COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
PARTIAL_DIR = ".partial"
PARTIAL_SUFFIX = ".tif.partial"
HASH_BLOCK = 1 << 20
# Creation options of the stored COGs: tiles of 256 x 256 cells (a point missing GDAL's
# block cache decompresses one: 256 KiB of float32, about a quarter of a millisecond), lossless
# compression with the floating-point predictor, overviews for the map's low zooms.
COG_OPTIONS = {"COMPRESS": "DEFLATE", "PREDICTOR": "YES", "BLOCKSIZE": "256",
               "OVERVIEWS": "AUTO", "RESAMPLING": "AVERAGE", "BIGTIFF": "IF_SAFER",
               "NUM_THREADS": "ALL_CPUS"}
# Largest block (tile or strip) a raster may store its cells in, decompressed.
MAX_BLOCK_BYTES = 64 << 20
# Read a GeoTIFF's vertical CRS too (GDAL reports only the horizontal one by default).
READ_OPTIONS = {"GTIFF_REPORT_COMPD_CS": "YES"}


@dataclass(frozen=True)
class RasterStore:
    """The directory of stored rasters (GEOAPP_RASTER_DIR) and the names in it."""

    root: Path

    def path(self, file_name: str) -> Path:
        """Where a stored raster is."""
        return self.root / file_name

    def partial_path(self, dataset_id: int) -> Path:
        """A new file for an import's COG while it is written (removed if it fails)."""
        folder = self.root / PARTIAL_DIR
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{dataset_id}-{uuid.uuid4().hex}{PARTIAL_SUFFIX}"

    def remove_partial(self, dataset_id: int) -> None:
        """Remove what earlier, killed attempts at this dataset's import left."""
        # With the COG driver's own scratch files beside them (`.ovr.tmp`, the overviews).
        for leftover in (self.root / PARTIAL_DIR).glob(f"{dataset_id}-*"):
            leftover.unlink(missing_ok=True)

    def promote(self, partial: Path) -> str:
        """Move a finished COG beside the stored ones; its file name."""
        name = f"{uuid.uuid4().hex}.tif"
        os.replace(partial, self.root / name)
        return name

    def remove(self, file_names: list[str]) -> None:
        """Remove stored rasters (after their rows were deleted, or never committed)."""
        for name in file_names:
            self.path(name).unlink(missing_ok=True)


@dataclass(frozen=True)
class RasterTarget:
    """Where raster imports store their files, and how large a raster may be."""

    store: RasterStore
    max_cells: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any], root: Path) -> RasterTarget:
        """The store at `root` (GEOAPP_RASTER_DIR), limited by GEOAPP_RASTER_MAX_CELLS."""
        root.mkdir(parents=True, exist_ok=True)
        return cls(RasterStore(root), int(config["GEOAPP_RASTER_MAX_CELLS"]))


@dataclass
class RasterReport:
    """What a raster import did, for the dataset's import report."""

    kind: str
    event_percent: float | None
    vertical_datum: str | None
    unit: str
    width: int
    height: int
    crs: str
    resolution: tuple[float, float]
    nodata: float | None
    size_bytes: int
    bbox: list[float]
    superseded_dataset_ids: list[int]
    file_name: str

    def as_json(self) -> dict[str, Any]:
        """The report as stored on the dataset (no file name: that is the server's)."""
        return {"raster": {
            "kind": self.kind, "event_percent": self.event_percent,
            "vertical_datum": self.vertical_datum, "unit": self.unit,
            "width": self.width, "height": self.height, "crs": self.crs,
            "resolution": list(self.resolution), "nodata": self.nodata,
            "size_bytes": self.size_bytes},
            "bbox": self.bbox, "imported": 0,
            "superseded_dataset_ids": self.superseded_dataset_ids}


@dataclass(frozen=True)
class VerticalMeaning:
    """What a raster's values are in: a unit, and a datum (None for depth grids)."""

    unit: VerticalUnit
    datum: str | None


def is_raster_file(path: Path) -> bool:
    """Whether an upload is named as a GeoTIFF."""
    return path.suffix.lower() in SUFFIXES


def refused(message: str, code: str) -> InvalidInput:
    """The one kind of refusal of a raster file."""
    return InvalidInput(message, code=code)


def open_upload(upload: Path) -> rasterio.DatasetReader:
    """An uploaded GeoTIFF opened with the GTiff driver only."""
    gdal_safety.apply()
    try:
        source = rasterio.open(upload, driver="GTiff")
    except RasterioError:
        raise refused(f"{upload.name} is not a readable GeoTIFF (corrupt or truncated)",
                      "invalid_raster") from None
    if source.driver != "GTiff":
        source.close()
        raise refused(f"{upload.name} is not a GeoTIFF", "invalid_raster")
    return source


def vertical_meaning(source: rasterio.DatasetReader, request: ImportRequest,
                     name: str) -> VerticalMeaning:
    """The unit and datum of the values: from the file where it says, else from the request;
    a file and a request that disagree are refused rather than guessed between."""
    file_unit, file_datum = None, None
    crs = CRS.from_wkt(source.crs.to_wkt()) if source.crs else None
    vertical = next((sub for sub in (crs.sub_crs_list if crs else []) if sub.is_vertical), None)
    if vertical is not None:
        file_datum = parse_datum(vertical.datum.name if vertical.datum else None)
        if vertical.axis_info:
            file_unit = parse_unit(vertical.axis_info[0].unit_name)
    band_unit = (source.units or [None])[0]
    if file_unit is None and band_unit:
        file_unit = parse_unit(band_unit)
        if file_unit is None and request.unit is None:
            raise refused(f"{name}: unknown vertical unit {band_unit[:40]!r}; give unit=m, ft "
                          "or ftUS", "unknown_unit")
    if file_unit and request.unit and file_unit != request.unit:
        raise refused(f"{name} says its values are in {file_unit.value}, the request says "
                      f"{request.unit.value}", "conflicting_unit")
    unit = file_unit or request.unit
    if unit is None:
        raise refused(f"{name} does not say the unit of its values; give unit=m, ft or ftUS",
                      "unknown_unit")
    if request.kind == RasterKind.DEPTH:  # heights above the ground: no datum
        return VerticalMeaning(unit, None)
    if file_datum and request.vertical_datum and file_datum != request.vertical_datum:
        raise refused(f"{name} says its vertical datum is {file_datum}, the request says "
                      f"{request.vertical_datum}", "conflicting_datum")
    datum = file_datum or request.vertical_datum
    if datum is None:
        raise refused(f"{name} does not say its vertical datum; give vertical_datum (for "
                      "example NAVD88)", "unknown_datum")
    return VerticalMeaning(unit, datum)


def horizontal_crs(source: rasterio.DatasetReader) -> CRS:
    """The raster's horizontal CRS (the first part of a compound one)."""
    crs = CRS.from_wkt(source.crs.to_wkt())
    if crs.is_compound:
        return next(sub for sub in crs.sub_crs_list if not sub.is_vertical)
    return crs


def check_raster(source: rasterio.DatasetReader, name: str, max_cells: int) -> None:
    """Refuse a raster without CRS, of several bands, or over the size limit."""
    if source.crs is None:
        raise refused(f"{name} has no coordinate reference system; add one (for example "
                      "with gdal_edit -a_srs) and upload it again", "missing_crs")
    if source.count != 1:
        raise refused(f"{name} has {source.count} bands; an elevation or depth raster has one",
                      "too_many_bands")
    cells = source.width * source.height
    if cells > max_cells:
        raise PayloadTooLarge(f"{name} has {source.width} x {source.height} cells, more than "
                              f"the limit of {max_cells:,}")
    if source.dtypes[0].startswith("complex"):
        raise refused(f"{name} holds complex numbers, not heights", "invalid_raster")
    transform = source.transform
    if transform.b != 0 or transform.d != 0 or transform.e >= 0:
        raise refused(f"{name} is rotated or south-up; warp it north-up first (for example "
                      "gdalwarp) and upload it again", "invalid_raster")
    block_rows, block_cols = source.block_shapes[0]
    block_bytes = block_rows * block_cols * np.dtype(source.dtypes[0]).itemsize
    if block_bytes > MAX_BLOCK_BYTES:
        # A few hundred bytes can declare one compressed strip of gigabytes: it would be
        # decompressed whole in memory.
        raise refused(f"{name} stores its cells in blocks of {block_cols} x {block_rows} "
                      f"({block_bytes >> 20} MiB each); rewrite it tiled (for example "
                      "gdal_translate -co TILED=YES) and upload it again", "invalid_raster")


def footprint_of(source: rasterio.DatasetReader, name: str) -> tuple[float, ...]:
    """The raster's bounds in WGS 84 (lon/lat), refused off the globe."""
    try:
        bounds = transform_bounds(source.crs, "EPSG:4326", *source.bounds, densify_pts=21)
    except (RasterioError, CPLE_BaseError, ValueError):  # a CRS PROJ cannot place on Earth
        bounds = (float("nan"),) * 4
    west, south, east, north = bounds
    if -180 <= east < west <= 180 and -90 <= south < north <= 90:
        raise refused(f"{name} crosses the 180th meridian, which rasters may not yet do; "
                      "split it there (for example with gdalwarp, one part on each side)",
                      "crosses_antimeridian")
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise refused(f"{name} lies outside -180..180, -90..90 once placed in WGS 84: check "
                      "its CRS", "footprint_out_of_range")
    return bounds


def write_cog(source: rasterio.DatasetReader, target: Path, name: str) -> None:
    """The raster rewritten as a Cloud Optimized GeoTIFF (every cell read: a truncated file
    fails here)."""
    try:
        rasterio.shutil.copy(source, target, driver="COG", **COG_OPTIONS)
    except (RasterioError, CPLE_BaseError):  # GDAL read errors are CPLE_*, no RasterioError
        target.unlink(missing_ok=True)
        raise refused(f"{name} could not be read to the end (corrupt or truncated)",
                      "invalid_raster") from None


def file_sha256(path: Path) -> str:
    """SHA-256 of a stored raster."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def import_raster(session: Session, dataset: Dataset, upload: Path, request: ImportRequest,
                  target: RasterTarget) -> RasterReport:
    """Check and store a raster as its pending dataset's layer (not committed); the report
    names the stored file, which the caller removes if the transaction does not commit."""
    store, max_cells = target.store, target.max_cells
    name = dataset.source_filename or upload.name
    store.remove_partial(dataset.id)
    with rasterio.Env(**READ_OPTIONS), open_upload(upload) as source:
        check_raster(source, name, max_cells)
        meaning = vertical_meaning(source, request, name)
        bounds = footprint_of(source, name)
        crs = horizontal_crs(source)
        partial = store.partial_path(dataset.id)
        try:
            write_cog(source, partial, name)
            checksum = file_sha256(partial)
            size = partial.stat().st_size
            file_name = store.promote(partial)
        finally:
            for scratch in partial.parent.glob(partial.name + "*"):
                scratch.unlink(missing_ok=True)
        nodata = source.nodata
        layer = RasterLayer(
            dataset_id=dataset.id, kind=request.kind, event_percent=request.event_percent,
            vertical_datum=meaning.datum, unit=meaning.unit.value, file_name=file_name,
            crs_wkt=crs.to_wkt(), width=source.width, height=source.height,
            resolution_x=abs(source.res[0]), resolution_y=abs(source.res[1]),
            # NaN nodata (usual in float COGs) is no value to store: NaN cells are missing anyway.
            nodata=None if nodata is None or math.isnan(nodata) else float(nodata),
            size_bytes=size,
            sha256=checksum, source_filename=name[:255],
            footprint=shapes_sql.envelope(bounds, shapes_sql.SRID))
    try:
        session.add(layer)
        superseded = mark_ready(session, dataset, request, bounds)
        session.flush()
    except Exception:
        store.remove([file_name])
        raise
    label = crs.to_string() if crs.to_epsg() is None else f"EPSG:{crs.to_epsg()}"
    report = RasterReport(
        kind=request.kind, event_percent=request.event_percent, vertical_datum=meaning.datum,
        unit=meaning.unit.value, width=layer.width, height=layer.height, crs=label[:255],
        resolution=(layer.resolution_x, layer.resolution_y), nodata=layer.nodata,
        size_bytes=size, bbox=[round(v, 7) for v in bounds],
        superseded_dataset_ids=superseded, file_name=file_name)
    dataset.import_report = report.as_json()
    return report


def mark_ready(session: Session, dataset: Dataset, request: ImportRequest,
               bounds: tuple[float, ...]) -> list[int]:
    """The raster's dataset made the ready version of its name (older ones retired)."""
    dataset.effective_date = request.effective_date
    dataset.feature_count = 0
    dataset.bbox = shapes_sql.envelope(tuple(bounds), shapes_sql.SRID)
    dataset.status = DatasetStatus.READY
    dataset.progress = 1.0
    dataset.error = None
    superseded_on = request.effective_date or dt.date.today()
    return list(session.scalars(imports_sql.retire_older_versions(dataset, superseded_on)))


def delete_dataset(session: Session, dataset: Dataset, store: RasterStore) -> None:
    """Delete a dataset (its zones, layers and raster rows go with it), commit, then remove
    its raster files: a failed commit leaves every file its rows name."""
    names = list(session.scalars(rasters_sql.files_of_dataset(dataset.id)))
    session.delete(dataset)
    session.commit()
    store.remove(names)


def sweep_orphans(session: Session, store: RasterStore, older_than: float) -> list[Path]:
    """Remove stored files no row names and partial files of imports no longer running,
    last changed before `older_than` (a time): what a killed import or a crash between a
    file's move and its commit left."""
    if not store.root.is_dir():
        return []
    known = set(session.scalars(rasters_sql.stored_file_names()))
    running = {str(dataset_id) for dataset_id in session.scalars(
        rasters_sql.importing_dataset_ids())}
    removed = []
    candidates = [path for path in store.root.glob("*.tif") if path.name not in known]
    candidates += [path for path in (store.root / PARTIAL_DIR).glob("*")
                   if path.name.split("-", 1)[0] not in running]
    for path in candidates:
        try:
            if path.stat().st_mtime < older_than:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:
            continue
    return removed
