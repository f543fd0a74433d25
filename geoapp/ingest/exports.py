"""A dataset written back out as a file (GeoPackage, shapefile, GeoJSON, FlatGeobuf, CSV, KML).

Each zone is written with the attributes of its source feature, as imported, so that an
export can be imported again and give the same features. Zones are read through a
server-side cursor and handed to GDAL (pyogrio) as an Arrow stream of record batches, so
memory holds one batch whatever the size of the dataset. Files are written into a working
directory the caller owns and removes.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyogrio.raw
from sqlalchemy.orm import Session

from geoapp.db.models import Dataset
from geoapp.db.queries import exports as exports_sql
from geoapp.errors import InvalidParameter, NotFound


@dataclass(frozen=True)
class ExportFormat:
    """A GDAL driver and how its file is named and served."""

    key: str
    driver: str
    suffix: str
    media_type: str
    layer_options: tuple[tuple[str, str], ...] = ()

    @property
    def download_suffix(self) -> str:
        """The suffix of the file served: a shapefile's parts travel zipped."""
        return ".zip" if self.suffix == ".shp" else self.suffix


FORMATS = {
    "gpkg": ExportFormat("gpkg", "GPKG", ".gpkg", "application/geopackage+sqlite3"),
    "shp": ExportFormat("shp", "ESRI Shapefile", ".shp", "application/zip"),
    "geojson": ExportFormat("geojson", "GeoJSON", ".geojson", "application/geo+json",
                            (("RFC7946", "YES"),)),
    "fgb": ExportFormat("fgb", "FlatGeobuf", ".fgb", "application/flatgeobuf"),
    "csv": ExportFormat("csv", "CSV", ".csv", "text/csv", (("GEOMETRY", "AS_WKT"),)),
    "kml": ExportFormat("kml", "KML", ".kml", "application/vnd.google-earth.kml+xml"),
}

# Zones per record batch handed to GDAL: what one export holds in memory at a time.
DEFAULT_BATCH_ZONES = 2000
# Longest download name without its suffix, in UTF-8 bytes (file systems allow 255 bytes).
MAX_NAME_BYTES = 200
# Longest ASCII name (fallback, files on disk, layer names), in characters.
MAX_NAME_CHARS = 100
# The geometry column of the Arrow stream; a name no NFHL attribute uses.
GEOMETRY_COLUMN = "__geoapp_wkb"


@dataclass(frozen=True)
class ExportFile:
    """A written export: where it is, its download name, media type, and how it was written."""

    path: Path
    filename: str
    media_type: str
    zones: int = 0
    batches: int = 0
    largest_batch: int = 0


def parse_format(value: str | None) -> ExportFormat:
    """The export format named by `format=`."""
    key = (value or "gpkg").lower()
    if key not in FORMATS:
        raise InvalidParameter(f"parameter 'format' must be one of {', '.join(FORMATS)}, "
                               f"got {value!r}")
    return FORMATS[key]


# --- download names -------------------------------------------------------------------------

_UNSAFE_IN_NAMES = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_NOT_ASCII_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
# The quoted fallback may keep spaces and brackets; never quotes, backslashes or ';'.
_NOT_HEADER_SAFE = re.compile(r"[^A-Za-z0-9 ._()+-]+")


def download_stem(name: str) -> str:
    """A dataset name as a file name without suffix: readable, any script, nothing unsafe.

    Control characters (CR/LF could split a header), path separators and characters that
    Windows refuses become '_'; leading dots (hidden files) are dropped; the length is capped.
    """
    cleaned = _UNSAFE_IN_NAMES.sub("_", unicodedata.normalize("NFC", name)).strip(" ._")
    # Cut on a character boundary: "ignore" drops a multi-byte character cut in two.
    cut = cleaned.encode()[:MAX_NAME_BYTES].decode("utf-8", "ignore")
    return cut.rstrip(" .") or "dataset"


def _ascii(name: str, unsafe: re.Pattern[str]) -> str:
    decomposed = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return unsafe.sub("_", decomposed).strip(" ._")[:MAX_NAME_CHARS]


def ascii_stem(name: str) -> str:
    """An ASCII file name stem for files on disk and layer names (accents dropped, rest '_')."""
    return _ascii(name, _NOT_ASCII_SAFE) or "dataset"


def download_filename(dataset_name: str, fmt: ExportFormat) -> str:
    """The name a dataset's export is downloaded as."""
    return download_stem(dataset_name) + fmt.download_suffix


def content_disposition(filename: str) -> str:
    """A Content-Disposition value for an attachment (RFC 6266, with RFC 5987 for non-ASCII).

    The quoted `filename` is plain ASCII without quotes or backslashes, for old clients;
    `filename*` carries the real name in UTF-8 when it differs.
    """
    stem, dot, suffix = filename.rpartition(".")
    if not dot:
        stem, suffix = filename, ""
    fallback = (_ascii(stem, _NOT_HEADER_SAFE) or "dataset") + (
        f".{_ascii(suffix, _NOT_ASCII_SAFE)}" if suffix else "")
    value = f'attachment; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


# --- attributes as typed columns -------------------------------------------------------------

@dataclass
class _ColumnSurvey:
    """What the values of one attribute are, over every zone of a dataset."""

    integers: int = 0
    numbers: int = 0
    others: int = 0


@dataclass(frozen=True)
class Column:
    """An attribute written as a field: its name and Arrow type."""

    name: str
    kind: pa.DataType


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def attribute_columns(session: Session, dataset_id: int, batch_zones: int) -> list[Column]:
    """The fields of an export: every attribute key in order of appearance, typed by its values.

    An attribute is an integer field when every zone has an integer for it, a real field when
    all its values are numbers (some may be missing), else text. One pass over the
    attributes only, batch by batch.
    """
    surveys: dict[str, _ColumnSurvey] = {}
    zones = 0
    result = session.execute(exports_sql.zone_attributes(dataset_id, batch_zones))
    for partition in result.partitions():
        for (attributes,) in partition:
            zones += 1
            for key, value in attributes.items():
                survey = surveys.setdefault(key, _ColumnSurvey())
                if value is None:
                    continue
                if _is_integer(value):
                    survey.integers += 1
                if _is_number(value):
                    survey.numbers += 1
                else:
                    survey.others += 1
    columns = []
    for key, survey in surveys.items():
        if survey.integers == zones:
            kind = pa.int64()
        elif survey.numbers and not survey.others:
            kind = pa.float64()
        else:
            kind = pa.string()
        columns.append(Column(key, kind))
    return columns


def _column_values(values: list[Any], kind: pa.DataType) -> pa.Array:
    """One batch of an attribute as an Arrow array of its field's type.

    Total on purpose: a zone edited between the survey and this read gives a null rather
    than a failed export.
    """
    if kind == pa.int64():
        return pa.array([v if _is_integer(v) else None for v in values], pa.int64())
    if kind == pa.float64():
        return pa.array([float(v) if _is_number(v) else None for v in values], pa.float64())
    return pa.array([None if v is None else str(v) for v in values], pa.string())


@dataclass
class _BatchCount:
    zones: int = 0
    batches: int = 0
    largest: int = 0


def _zone_batches(session: Session, dataset_id: int, columns: list[Column],
                  schema: pa.Schema, batch_zones: int, count: _BatchCount
                  ) -> Iterator[pa.RecordBatch]:
    """The dataset's zones as record batches of at most `batch_zones` rows."""
    result = session.execute(exports_sql.zone_attributes_and_wkb(dataset_id, batch_zones))
    for partition in result.partitions():
        arrays = [_column_values([attributes.get(c.name) for attributes, _ in partition],
                                 c.kind) for c in columns]
        arrays.append(pa.array([bytes(wkb) for _, wkb in partition], pa.binary()))
        count.zones += len(partition)
        count.batches += 1
        count.largest = max(count.largest, len(partition))
        yield pa.record_batch(arrays, schema=schema)


def layer_options(fmt: ExportFormat, field_names: list[str]) -> dict[str, str]:
    """GDAL layer creation options of a format for a layer with these attribute names."""
    options = dict(fmt.layer_options)
    if fmt.driver == "GPKG":
        # A GeoPackage keeps its own integer key column, named "fid" unless told otherwise;
        # files exported from GIS tools often carry an attribute of that name, which would
        # clash with it, so the key takes the first name no attribute has.
        taken = {name.lower() for name in field_names}
        options["FID"] = next(name for name in ("fid", *(f"fid_{n}" for n in range(1, 1000)))
                              if name not in taken)
    return options


def write_export(session: Session, dataset_id: int, fmt: ExportFormat, workdir: Path,
                 batch_zones: int = DEFAULT_BATCH_ZONES) -> ExportFile:
    """Write a dataset's zones with their source attributes into `workdir`, batch by batch."""
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"no dataset {dataset_id}")
    columns = attribute_columns(session, dataset_id, batch_zones)
    schema = pa.schema([pa.field(c.name, c.kind) for c in columns] + [
        pa.field(GEOMETRY_COLUMN, pa.binary(),
                 metadata={"ARROW:extension:name": "geoarrow.wkb"})])
    count = _BatchCount()
    stem = ascii_stem(dataset.name)
    target = workdir / f"{stem}{fmt.suffix}"
    stream = pa.RecordBatchReader.from_batches(
        schema, _zone_batches(session, dataset_id, columns, schema, batch_zones, count))
    pyogrio.raw.write_arrow(
        stream, str(target), layer=stem, driver=fmt.driver, geometry_type="MultiPolygon",
        crs="EPSG:4326", encoding="UTF-8" if fmt.suffix == ".shp" else None,
        layer_options=layer_options(fmt, [c.name for c in columns]) or None,
    )
    if fmt.suffix == ".shp":
        archive = workdir / f"{stem}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for part in sorted(workdir.glob(f"{stem}.*")):
                if part != archive:
                    bundle.write(part, part.name)
                    part.unlink()
        target = archive
    return ExportFile(target, download_filename(dataset.name, fmt), fmt.media_type,
                      zones=count.zones, batches=count.batches, largest_batch=count.largest)
