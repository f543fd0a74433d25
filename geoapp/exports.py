"""A dataset written back out as a file (GeoPackage, shapefile, GeoJSON, FlatGeobuf, CSV, KML).

Each zone is written with the attributes of its source feature, as imported, so that an
export can be imported again and give the same features. Files are written by GDAL
(pyogrio) into a working directory; the caller streams and removes it.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geoapp.errors import InvalidParameter, NotFound
from geoapp.models import Dataset, FloodZone


@dataclass(frozen=True)
class ExportFormat:
    """A GDAL driver and how its file is named and served."""

    driver: str
    suffix: str
    media_type: str
    layer_options: tuple[tuple[str, str], ...] = ()


FORMATS = {
    "gpkg": ExportFormat("GPKG", ".gpkg", "application/geopackage+sqlite3"),
    "shp": ExportFormat("ESRI Shapefile", ".shp", "application/zip"),
    "geojson": ExportFormat("GeoJSON", ".geojson", "application/geo+json",
                            (("RFC7946", "YES"),)),
    "fgb": ExportFormat("FlatGeobuf", ".fgb", "application/flatgeobuf"),
    "csv": ExportFormat("CSV", ".csv", "text/csv", (("GEOMETRY", "AS_WKT"),)),
    "kml": ExportFormat("KML", ".kml", "application/vnd.google-earth.kml+xml"),
}


@dataclass(frozen=True)
class ExportFile:
    """A written export: where it is, its download name and media type."""

    path: Path
    filename: str
    media_type: str


def parse_format(value: str | None) -> ExportFormat:
    """The export format named by `format=`."""
    key = (value or "gpkg").lower()
    if key not in FORMATS:
        raise InvalidParameter(f"parameter 'format' must be one of {', '.join(FORMATS)}, "
                               f"got {value!r}")
    return FORMATS[key]


def field_array(values: list[Any]) -> np.ndarray:
    """A column for GDAL: integers, floats or text, by what the values are."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present) \
            and len(present) == len(values):
        return np.array(values, dtype=np.int64)
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
    return np.array([None if v is None else str(v) for v in values], dtype=object)


def safe_filename(name: str) -> str:
    """A download file name from a dataset name."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("._")
    return cleaned[:80] or "dataset"


def export_dataset(session: Session, dataset_id: int, fmt: ExportFormat,
                   workdir: Path) -> ExportFile:
    """Write a dataset's zones with their source attributes into `workdir`."""
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"no dataset {dataset_id}")
    rows = session.execute(
        select(FloodZone.attributes, func.ST_AsBinary(FloodZone.geom))
        .where(FloodZone.dataset_id == dataset_id).order_by(FloodZone.id)
    ).all()
    fields = list(dict.fromkeys(key for attributes, _ in rows for key in attributes))
    geometries = np.array([bytes(wkb) for _, wkb in rows], dtype=object)
    columns = [field_array([attributes.get(name) for attributes, _ in rows])
               for name in fields]
    stem = safe_filename(dataset.name)
    target = workdir / f"{stem}{fmt.suffix}"
    pyogrio.raw.write(
        str(target), geometries, columns, fields, driver=fmt.driver, crs="EPSG:4326",
        geometry_type="MultiPolygon", layer=stem, encoding="UTF-8" if fmt.suffix == ".shp"
        else None, layer_options=dict(fmt.layer_options) or None,
    )
    if fmt.suffix == ".shp":
        archive = workdir / f"{stem}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for part in sorted(workdir.glob(f"{stem}.*")):
                if part != archive:
                    bundle.write(part, part.name)
        return ExportFile(archive, archive.name, fmt.media_type)
    return ExportFile(target, target.name, fmt.media_type)

