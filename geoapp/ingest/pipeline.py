"""The import pipeline shared by the web upload, the API and the CLI (no Flask here).

A layer is read with GDAL (pyogrio) in chunks, reprojected to EPSG:4326 with pyproj, checked
and repaired with shapely/GEOS, and bulk-loaded with COPY into `flood_zones` inside the
caller's transaction. Zones small enough to be lookup pieces as they are get their pieces
from the database trigger; larger ones are cut here (geoapp.ingest.pieces) while the database loads
the previous batch, and their pieces are copied in beside them. The dataset
switches to `ready` (retiring an older version of the same name) in that same transaction, so
a failure, a crash or a killed worker leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import struct
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyogrio
import pyogrio.raw
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy.orm import Session

from geoapp.db.models import Dataset
from geoapp.db.queries import imports as imports_sql
from geoapp.db.queries import shapes as shapes_sql
from geoapp.db.queries.imports import COPY_COLUMNS, PIECE_COLUMNS
from geoapp.db.vocabulary import DatasetStatus
from geoapp.errors import InvalidInput
from geoapp.geo.crs import parse_source_crs
from geoapp.ingest import gdal_safety
from geoapp.ingest.pieces import cut, needs_cutting
from geoapp.ingest.sources import WGS84, crs_label
from geoapp.ingest.uploads import expected_drivers, public_reason, sibling_file
from geoapp.nfhl.attributes import (
    NUMBER_FIELDS,
    TEXT_FIELDS,
    json_key,
    json_ready_column,
    zone_value_columns,
)

# How GDAL decodes a .dbf that comes without a .cpg and whose header names no code page.
SHAPEFILE_DEFAULT_ENCODING = "ISO-8859-1"
DBF_LANGUAGE_DRIVER_BYTE = 29
NFHL_LAYER = "S_FLD_HAZ_AR"
# Target fields a mapping may fill, and the only one that is required.
MAPPABLE_FIELDS = {*TEXT_FIELDS.values(), *NUMBER_FIELDS.values(), "SFHA_TF"}
REQUIRED_FIELD = "FLD_ZONE"
REJECTIONS_LISTED = 100
# Features GDAL hands over at a time; chunks are gathered from such batches.
READ_BATCH = 250
POLYGONAL = {"Polygon", "MultiPolygon"}
# Large zones are cut and loaded in batches of about this many vertices, so that the database
# loads one batch while the next is cut.
CUT_BATCH_VERTICES = 100_000
# Chunks with more vertices than this are reprojected and checked on two threads.
PARALLEL_MIN_VERTICES = 200_000
# Batches cut ahead of the one being loaded (bounds the memory their pieces hold).
CUTS_AHEAD = 2

Progress = Callable[[int, int], None]


@dataclass
class ImportOptions:
    """What the user chose for one import."""

    name: str
    effective_date: dt.date | None = None
    source_crs: str | None = None
    encoding: str | None = None
    layer: str | None = None
    field_map: dict[str, str] = field(default_factory=dict)
    repair: bool = True
    # A chunk holds at most chunk_size features and chunk_vertices vertices.
    chunk_size: int = 5000
    chunk_vertices: int = 2_000_000


@dataclass
class ImportReport:
    """What an import read, wrote, repaired, skipped and refused."""

    source: str
    layer: str
    source_crs: str
    encoding: str | None
    features_read: int = 0
    imported: int = 0
    repaired: int = 0
    skipped_empty: int = 0
    rejected_count: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    bbox: list[float] | None = None
    zones: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    superseded_dataset_ids: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return asdict(self)


@dataclass(frozen=True)
class LayerPlan:
    """What the pipeline will read: layer, CRS, encoding, size, and the NFHL field names."""

    path: str
    layer: str
    crs: CRS
    crs_label: str
    encoding: str
    feature_count: int
    field_sources: dict[str, str]


def choose_layer(path: str, wanted: str | None) -> str:
    """The layer to import: the one asked for, the only one, or the NFHL flood hazard layer."""
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as exc:
        raise InvalidInput(f"GDAL cannot read {Path(path).name}: {public_reason(exc)}",
                           code="unreadable_file") from None
    if not layers:
        raise InvalidInput(f"{Path(path).name} holds no layer", code="empty_layer")
    if wanted:
        match = [name for name in layers if name.lower() == wanted.lower()]
        if not match:
            raise InvalidInput(f"no layer {wanted!r}; the file has {', '.join(layers)}",
                               code="unknown_layer")
        return match[0]
    if len(layers) == 1:
        return layers[0]
    nfhl = [name for name in layers if name.upper().endswith(NFHL_LAYER)]
    if nfhl:
        return nfhl[0]
    raise InvalidInput(f"the file has several layers ({', '.join(layers)}); choose one with "
                       "`layer`", code="layer_required")


def resolve_fields(fields: list[str], field_map: Mapping[str, str]) -> dict[str, str]:
    """Target NFHL field -> source field: the mapping, else NFHL names in any case."""
    by_upper = {name.upper(): name for name in fields}
    sources: dict[str, str] = {}
    for target, source in field_map.items():
        if target.upper() not in MAPPABLE_FIELDS:
            raise InvalidInput(
                f"field mapping: {target!r} is not a field we store; use one of "
                f"{', '.join(sorted(MAPPABLE_FIELDS))}", code="invalid_field_mapping")
        if source not in fields:
            raise InvalidInput(
                f"field mapping: the layer has no field {source!r} (it has "
                f"{', '.join(fields) or 'none'})", code="invalid_field_mapping")
        sources[target.upper()] = source
    for target in MAPPABLE_FIELDS:
        if target not in sources and target in by_upper:
            sources[target] = by_upper[target]
    if REQUIRED_FIELD not in sources:
        raise InvalidInput(
            f"no {REQUIRED_FIELD} field: this is not an NFHL layer, so give a field mapping "
            f"naming the field that holds the zone code (fields: {', '.join(fields) or 'none'})",
            code="field_mapping_required")
    return sources


def plan_layer(path: str | Path, options: ImportOptions) -> LayerPlan:
    """Open the file and decide how to read it, refusing what cannot be imported.

    Only the GDAL driver the file's extension names may have opened it (wrong_content).
    """
    gdal_safety.apply()  # done by create_app already; no file is opened before it
    allowed = expected_drivers(Path(path))
    path = str(path)
    layer = choose_layer(path, options.layer)
    try:
        info = pyogrio.read_info(path, layer=layer, encoding=options.encoding)
    except pyogrio.errors.CRSError as exc:
        raise InvalidInput(
            f"the coordinate reference system of layer {layer!r}{crs_file(path)} cannot be "
            f"read ({public_reason(exc)}); correct or remove it", code="invalid_crs") from None
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            LookupError) as exc:
        raise InvalidInput(f"GDAL cannot read layer {layer!r}: {public_reason(exc)}",
                           code="unreadable_file") from None
    driver = str(info.get("driver") or "")
    if driver not in allowed:
        raise InvalidInput(
            f"{Path(path).name} was read by GDAL as {driver or 'another'} data, not as the "
            f"{' or '.join(sorted(allowed))} its name says; nothing was imported",
            code="wrong_content")
    geometry_type = str(info.get("geometry_type") or "")
    count = int(info.get("features") or 0)
    if count <= 0:
        raise InvalidInput(f"layer {layer!r} has no features", code="empty_layer")
    base_type = geometry_type.replace("Multi", "").split()[0] if geometry_type else ""
    if base_type in {"Point", "LineString"}:
        raise InvalidInput(
            f"layer {layer!r} holds {count} {geometry_type} features; flood zones must be "
            "polygons", code="not_polygons")
    if options.source_crs:
        crs = parse_source_crs(options.source_crs, "source_crs")
    elif info.get("crs"):
        crs = parse_source_crs(str(info["crs"]),
                               f"the coordinate reference system of layer {layer!r}"
                               f"{crs_file(path)}")
    elif crs_file(path):
        raise InvalidInput(
            f"layer {layer!r}: its .prj file is not a coordinate reference system GDAL can "
            "read; correct it, or remove it and give source_crs, e.g. EPSG:3424",
            code="invalid_crs")
    else:
        raise InvalidInput(
            f"layer {layer!r} declares no coordinate reference system (no .prj?); give "
            "source_crs, e.g. EPSG:3424", code="missing_crs")
    try:
        Transformer.from_crs(crs, WGS84, always_xy=True)
    except (CRSError, ProjError):
        raise InvalidInput(f"coordinates in {crs_label(crs)} cannot be converted to "
                           "longitude and latitude", code="invalid_crs") from None
    return LayerPlan(path, layer, crs, crs_label(crs),
                     source_encoding(path, driver, options.encoding),
                     count, resolve_fields(list(info["fields"]), options.field_map))


def crs_file(path: str) -> str:
    """The words " (its .prj file)" for a shapefile that has one, else nothing."""
    if Path(path).suffix.lower() == ".shp" and sibling_file(Path(path), ".prj") is not None:
        return " (its .prj file)"
    return ""


def source_encoding(path: str, driver: str, override: str | None) -> str:
    """The encoding the layer's text is decoded from, as GDAL chooses it (for the report).

    The override wins; a shapefile's .cpg comes next, then the code page its .dbf header names
    (GDAL's "LDID/n"), then ISO-8859-1. The other formats store UTF-8.
    """
    if override:
        return override
    if driver != "ESRI Shapefile":
        return "UTF-8"
    cpg, dbf = sibling_file(Path(path), ".cpg"), sibling_file(Path(path), ".dbf")
    if cpg is not None and (declared := cpg.read_text(errors="replace").strip()):
        return declared
    if dbf is not None:
        with dbf.open("rb") as handle:
            header = handle.read(DBF_LANGUAGE_DRIVER_BYTE + 1)
        if len(header) > DBF_LANGUAGE_DRIVER_BYTE and header[DBF_LANGUAGE_DRIVER_BYTE]:
            return f"LDID/{header[DBF_LANGUAGE_DRIVER_BYTE]}"
    return SHAPEFILE_DEFAULT_ENCODING


def read_chunks(plan: LayerPlan, options: ImportOptions
                ) -> Iterator[tuple[int, np.ndarray, list[str], list[list[Any]]]]:
    """(index of the first feature, geometries, field names, field values) per chunk.

    The layer is read in one pass through GDAL's Arrow stream, so formats without random
    access (GeoJSON, KML) are parsed once rather than once per chunk. Its batches are gathered
    into chunks of at most `chunk_size` features and `chunk_vertices` vertices (or one batch):
    memory stays bounded however detailed the zones are.
    """
    encoding = options.encoding  # else GDAL decodes as the file says (see source_encoding)
    first, batches, features, vertices = 0, [], 0, 0
    with pyogrio.raw.open_arrow(plan.path, layer=plan.layer, encoding=encoding,
                                batch_size=READ_BATCH, use_pyarrow=True,
                                return_fids=True) as (meta, reader):
        geometry_column = meta["geometry_name"] or "wkb_geometry"
        fid_column = meta["fid_column"] or "OGC_FID"
        for batch in readable(reader, plan.layer):
            try:
                values = batch_values(batch, geometry_column, fid_column,
                                      lambda fids: linear_geometries(plan, fids))
            except UnicodeDecodeError as exc:
                raise InvalidInput(
                    f"text in layer {plan.layer!r} (features {first + features} to "
                    f"{first + features + batch.num_rows - 1}) is not {plan.encoding}: "
                    f"{exc.reason}; give the file's encoding, e.g. cp1252",
                    code="undecodable_text") from None
            size = int(shapely.get_num_coordinates(values[0]).sum())
            if batches and (features + batch.num_rows > options.chunk_size
                            or vertices + size > options.chunk_vertices):
                yield first, *joined(batches)
                first, batches, features, vertices = first + features, [], 0, 0
            batches.append(values)
            features, vertices = features + batch.num_rows, vertices + size
    if batches:
        yield first, *joined(batches)


READ_ERRORS = (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
               pyogrio.errors.FeatureError, pyogrio.errors.GeometryError,
               pyogrio.errors.FieldError)


def readable(reader: Iterator[Any], layer: str) -> Iterator[Any]:
    """The reader's batches; a file GDAL cannot read to the end is refused, not half-read."""
    read = 0
    try:
        for batch in reader:
            yield batch
            read += batch.num_rows
    except READ_ERRORS as exc:
        raise InvalidInput(
            f"GDAL cannot read layer {layer!r} past feature {read}: {public_reason(exc)} (is "
            "the file truncated or damaged?)", code="unreadable_file") from None


def batch_values(batch: Any, geometry_column: str, fid_column: str,
                 linearised: Callable[[list[int]], np.ndarray]
                 ) -> tuple[np.ndarray, list[str], list[list[Any]]]:
    """Geometries, field names and field values (Python objects, None for null) of a batch.

    A batch holding curves (which GEOS cannot read) takes its geometries from `linearised`.
    """
    import pyarrow.types  # loaded by pyogrio's Arrow stream already

    fields = [field for field in batch.schema if field.name not in (geometry_column, fid_column)]
    wkb = batch.column(geometry_column).to_numpy(zero_copy_only=False)
    try:
        geometries = shapely.from_wkb(wkb)
    except NotImplementedError:  # "Nonlinear geometry types are not currently supported"
        geometries = linearised(batch.column(fid_column).to_pylist())
    # Whole columns to Python values at once (one value at a time is slow); some drivers
    # give NaN for a null number.
    return geometries, [field.name for field in fields], [
        without_nan(values) if pyarrow.types.is_floating(field.type) else values
        for field, values in ((field, batch.column(field.name).to_pylist()) for field in fields)]


def linear_geometries(plan: LayerPlan, fids: list[int]) -> np.ndarray:
    """Features' geometries with curves replaced by line segments (pyogrio's feature reader)."""
    try:
        _meta, _fids, wkb, _columns = pyogrio.raw.read(plan.path, layer=plan.layer, fids=fids,
                                                       columns=[])
    except READ_ERRORS as exc:
        raise InvalidInput(f"GDAL cannot read the curved features of layer {plan.layer!r}: "
                           f"{public_reason(exc)}", code="unreadable_file") from None
    return shapely.from_wkb(wkb)


def joined(batches: list[tuple[np.ndarray, list[str], list[list[Any]]]]
           ) -> tuple[np.ndarray, list[str], list[list[Any]]]:
    """Batches of the same layer as one chunk."""
    if len(batches) == 1:
        return batches[0]
    columns = [[] for _ in batches[0][1]]
    for _, _, batch_columns in batches:
        for column, values in zip(columns, batch_columns, strict=True):
            column += values
    return np.concatenate([geometries for geometries, _, _ in batches]), batches[0][1], columns


def without_nan(values: list[float | None]) -> list[float | None]:
    """Numbers with NaN as None."""
    return [None if v is None or math.isnan(v) else v for v in values]


def polygonal_part(geometry: Any) -> MultiPolygon | None:
    """The polygons of a (repaired) geometry as one MultiPolygon, or None if there are none."""
    polygons: list[Polygon] = []
    for part in shapely.get_parts(geometry):
        if isinstance(part, Polygon) and not part.is_empty:
            polygons.append(part)
        elif isinstance(part, MultiPolygon):
            polygons += list(part.geoms)
        elif part.geom_type == "GeometryCollection":
            found = polygonal_part(part)
            if found is not None:
                polygons += list(found.geoms)
    return MultiPolygon(polygons) if polygons else None


# Little-endian EWKB of a MultiPolygon (type 6) with the SRID flag and 4326, and the plain
# WKB type headers the geometries come with.
EWKB_MULTIPOLYGON_4326 = "0106000020e6100000"
WKB_POLYGON = "0103000000"
WKB_HEADER_HEX_CHARS = 10  # byte order and type


def multipolygon_ewkb(geometries: list[Any]) -> list[str]:
    """Polygons and multipolygons as hex EWKB MultiPolygons (SRID 4326, 2D).

    GEOS writes plain 2D little-endian WKB once; the EWKB header is then put in front as
    text: a polygon becomes a one-part multipolygon by prefixing the part count, which costs
    nothing next to building multipolygon objects and setting their SRID in GEOS.
    """
    if not geometries:
        return []
    binary = shapely.to_wkb(np.array(geometries, dtype=object), output_dimension=2,
                            byte_order=1)
    # Binary WKB turned into hex by Python is several times faster than GEOS's hex writer.
    return [
        EWKB_MULTIPOLYGON_4326 + "01000000" + text if text.startswith(WKB_POLYGON)
        else EWKB_MULTIPOLYGON_4326 + text[WKB_HEADER_HEX_CHARS:]
        for text in (wkb.hex() for wkb in binary)
    ]


COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
COPY_NULL = "\\N"


def copy_column(values: list[Any]) -> list[str]:
    """A column's values in COPY's text format (\\N is NULL; backslash, tab, newlines escaped)."""
    # One pass per column: its values share a type (text, number or flag) or are NULL.
    kinds = {type(value) for value in values}
    kinds.discard(type(None))
    if kinds == {bool}:
        return [COPY_NULL if v is None else "t" if v else "f" for v in values]
    if kinds <= {int, float}:
        return [COPY_NULL if v is None else repr(v) for v in values]
    return [COPY_NULL if v is None else str(v).translate(COPY_ESCAPES) for v in values]


def json_lines(names: list[str], columns: list[list[Any]], count: int) -> list[str]:
    """Each feature's original attributes as a JSON object (the `attributes` column)."""
    keys = [json_key(name) for name in names]
    ready = [json_ready_column(column) for column in columns]
    if not keys:
        return ["{}"] * count
    return [orjson.dumps(dict(zip(keys, row, strict=True))).decode()
            for row in zip(*ready, strict=True)]


class ChunkWriter:
    """Turns one chunk of features into COPY text, counting what happened to each."""

    def __init__(self, plan: LayerPlan, options: ImportOptions, report: ImportReport,
                 dataset_id: int, helpers: ThreadPoolExecutor | None = None) -> None:
        self.plan, self.options, self.report, self.dataset_id = plan, options, report, dataset_id
        self.helpers = helpers
        # One transformer per helper thread: PROJ objects are not shared between threads.
        self.to_wgs84 = [] if plan.crs.equals(WGS84, ignore_axis_order=True) else [
            Transformer.from_crs(plan.crs, WGS84, always_xy=True) for _ in range(2)]
        self.zones: Counter[str] = Counter()
        # Extent of what was imported, kept as it goes: no scan of the zones at the end.
        self.bounds = np.array([np.inf, np.inf, -np.inf, -np.inf])

    def reject(self, index: int, reason: str) -> None:
        """Count a refused feature and list the first ones."""
        self.report.rejected_count += 1
        if len(self.report.rejected) < REJECTIONS_LISTED:
            self.report.rejected.append({"index": index, "reason": reason})

    def geometry_problem(self, index: int, geometry: Any, valid: bool,
                         bounds: np.ndarray) -> tuple[Any, bool]:
        """(geometry to import or None, whether it was repaired) for a suspect feature.

        `bounds` is its extent in EPSG:4326. Coordinates that are not numbers, or not a
        longitude and latitude, cannot be repaired: the feature is rejected.
        """
        if geometry is None or geometry.is_empty:
            self.report.skipped_empty += 1
            return None, False
        if geometry.geom_type not in POLYGONAL:
            self.reject(index, f"a {geometry.geom_type}, not a polygon")
            return None, False
        if not np.isfinite(bounds).all():
            self.reject(index, "coordinates are not finite numbers")
            return None, False
        if not in_lon_lat_range(bounds[np.newaxis])[0]:
            self.reject(index, "coordinates outside longitude -180..180 / latitude -90..90 "
                        f"after conversion to EPSG:4326 (extent {format_bounds(bounds)}); is "
                        "the CRS right?")
            return None, False
        if valid:
            return geometry, False
        reason = shapely.is_valid_reason(geometry)
        if not self.options.repair:
            self.reject(index, f"invalid geometry: {reason}")
            return None, False
        repaired = polygonal_part(shapely.make_valid(geometry))
        if repaired is None:
            self.reject(index, f"invalid geometry that repairs to no area: {reason}")
        return repaired, repaired is not None

    def reprojected_and_checked(self, geometries: np.ndarray, worker: int
                                ) -> tuple[np.ndarray, np.ndarray]:
        """Geometries in EPSG:4326 and whether each is valid (`worker`: which transformer)."""
        if self.to_wgs84:
            geometries = shapely.transform(geometries, self.to_wgs84[worker].transform,
                                           interleaved=False)
        return geometries, shapely.is_valid(geometries)

    def rows(self, first: int, geometries: np.ndarray, names: list[str],
             columns: list[list[Any]]) -> ChunkRows:
        """COPY lines of the acceptable features of a chunk, small zones apart from large.

        Geometry checks and attribute cleaning run over whole arrays and columns; only the
        features with a problem are looked at one by one (in order, for the report).
        """
        count = len(geometries)
        self.report.features_read += count
        # Z and M values are dropped when the WKB is written (multipolygon_ewkb).
        runs = split_in_two(geometries) if self.helpers is not None else [geometries]
        if len(runs) == 1:
            geometries, valid = self.reprojected_and_checked(geometries, 0)
        else:
            # A heavy chunk (detailed zones): PROJ and GEOS release the GIL, so use both cores.
            done = list(self.helpers.map(self.reprojected_and_checked, runs, range(2)))
            geometries = np.concatenate([run for run, _ in done])
            valid = np.concatenate([flags for _, flags in done])
        bounds = shapely.bounds(geometries)
        # NaN bounds (empty or non-finite) compare False, so they are not in range either.
        in_range = in_lon_lat_range(bounds)
        polygonal = np.isin(shapely.get_type_id(geometries),
                            (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON))
        sound = valid & in_range & polygonal & ~shapely.is_empty(geometries)
        by_name = dict(zip(names, columns, strict=True))
        typed = zone_value_columns(
            {target: by_name[source] for target, source in self.plan.field_sources.items()},
            count)
        keep = sound.copy()
        zone_field = self.plan.field_sources[REQUIRED_FIELD]
        for offset in np.flatnonzero(~sound | np.array([z is None for z in typed["fld_zone"]])):
            index = first + int(offset)
            geometry = geometries[offset]
            if not sound[offset]:
                geometry, repaired = self.geometry_problem(index, geometry, bool(valid[offset]),
                                                           bounds[offset])
                if geometry is None:
                    keep[offset] = False
                    continue
                geometries[offset] = geometry
                self.report.repaired += repaired
            if typed["fld_zone"][offset] is None:
                self.reject(index, f"no zone code in {zone_field}")
                keep[offset] = False
                continue
            keep[offset] = True
        kept = np.flatnonzero(keep)
        if len(kept) == 0:
            return ChunkRows()
        self.zones.update(typed["fld_zone"][i] for i in kept)
        attributes = json_lines(names, columns, count)
        table = [[str(self.dataset_id)] * count,
                 *(copy_column(typed[name]) for name in COPY_COLUMNS[1:-2]),
                 copy_column(attributes)]
        kept_geometries = geometries[kept]
        chunk_bounds = shapely.total_bounds(kept_geometries)
        self.bounds = np.concatenate([np.minimum(self.bounds[:2], chunk_bounds[:2]),
                                      np.maximum(self.bounds[2:], chunk_bounds[2:])])
        ewkb = multipolygon_ewkb(list(kept_geometries))
        if len(kept) == count:
            lines = ["\t".join(row) for row in zip(*table, ewkb, strict=True)]
        else:
            lines = ["\t".join([*(column[i] for column in table), wkb])
                     for i, wkb in zip(kept, ewkb, strict=True)]
        large = needs_cutting(kept_geometries)
        small_lines = [line for line, big in zip(lines, large, strict=True) if not big]
        return ChunkRows(
            small="".join(line + "\n" for line in small_lines), small_count=len(small_lines),
            large_lines=[line for line, big in zip(lines, large, strict=True) if big],
            large_geometries=kept_geometries[large])


def in_lon_lat_range(bounds: np.ndarray) -> np.ndarray:
    """Whether each extent (xmin, ymin, xmax, ymax rows) lies within -180..180 / -90..90."""
    with np.errstate(invalid="ignore"):
        return ((bounds[:, 0] >= -180) & (bounds[:, 2] <= 180)
                & (bounds[:, 1] >= -90) & (bounds[:, 3] <= 90))


def format_bounds(bounds: np.ndarray) -> str:
    """An extent for a message: xmin, ymin, xmax, ymax rounded."""
    return ", ".join(f"{value:.6g}" for value in bounds)


@dataclass
class ChunkRows:
    """A chunk's COPY lines: zones the trigger turns into pieces, and zones cut here."""

    small: str = ""
    small_count: int = 0
    large_lines: list[str] = field(default_factory=list)
    large_geometries: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))

    @property
    def count(self) -> int:
        """Zones to load."""
        return self.small_count + len(self.large_lines)

    def large_batches(self) -> Iterator[tuple[list[str], np.ndarray]]:
        """The large zones in batches of about CUT_BATCH_VERTICES vertices."""
        sizes = shapely.get_num_coordinates(self.large_geometries)
        start = total = 0
        for end, size in enumerate(sizes, start=1):
            total += int(size)
            if total >= CUT_BATCH_VERTICES or end == len(sizes):
                yield self.large_lines[start:end], self.large_geometries[start:end]
                start, total = end, 0


@dataclass
class CutZones:
    """Large zones' COPY lines (without ids) and the pieces cut from them, ready to load."""

    lines: list[str]
    piece_owners: np.ndarray
    piece_ewkb: list[bytes]

    @classmethod
    def cut(cls, lines: list[str], geometries: np.ndarray) -> CutZones:
        """Cut a batch of large zones into pieces."""
        owners, pieces = cut(geometries)
        return cls(lines, owners, polygon_ewkb(pieces))


# Little-endian EWKB header of a Polygon (type 3) with the SRID flag and 4326, in bytes.
EWKB_POLYGON_4326_BYTES = bytes.fromhex("0103000020e6100000")
WKB_HEADER_BYTES = 5  # byte order and type


def split_in_two(geometries: np.ndarray) -> list[np.ndarray]:
    """Two runs of geometries with about as many vertices each, or one run if it is light."""
    sizes = np.cumsum(shapely.get_num_coordinates(geometries))
    if len(geometries) < 2 or sizes[-1] < PARALLEL_MIN_VERTICES:
        return [geometries]
    middle = min(int(np.searchsorted(sizes, sizes[-1] / 2)) + 1, len(geometries) - 1)
    return [geometries[:middle], geometries[middle:]]


def polygon_ewkb(polygons: np.ndarray) -> list[bytes]:
    """Polygons as EWKB with SRID 4326 (2D): GEOS's plain WKB behind a header of our own."""
    binary = shapely.to_wkb(polygons, output_dimension=2, byte_order=1)
    return [EWKB_POLYGON_4326_BYTES + wkb[WKB_HEADER_BYTES:] for wkb in binary]


# PostgreSQL's binary COPY: signature, flags and header extension; a -1 field count ends it.
COPY_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
COPY_BINARY_TRAILER = struct.pack("!h", -1)


def binary_piece_rows(tags: list[tuple[str, str]], owners: np.ndarray, ewkb: list[bytes]
                      ) -> bytes:
    """Pieces (zone id, risk status, geometry) in binary COPY format: no hex to write or parse.

    `tags` holds each zone's (id, risk status); `owners` the zone of each piece.
    """
    prefixes = [struct.pack("!hiqi", len(PIECE_COLUMNS), 8, int(zone_id), len(status))
                + status.encode() for zone_id, status in tags]
    return b"".join([COPY_BINARY_HEADER,
                     *(prefixes[owner] + struct.pack("!i", len(wkb)) + wkb
                       for owner, wkb in zip(owners.tolist(), ewkb, strict=True)),
                     COPY_BINARY_TRAILER])


def copy_rows(dbapi: Any, text: str) -> None:
    """Bulk-load COPY text into flood_zones on a DBAPI connection."""
    with dbapi.cursor() as cursor:
        cursor.copy_expert(imports_sql.COPY_ZONES, io.StringIO(text))


def copy_cut_zones(dbapi: Any, zones: CutZones) -> None:
    """Bulk-load large zones and their pieces, tagged with the status the database gave them."""
    with dbapi.cursor() as cursor:
        cursor.execute(imports_sql.ALLOCATE_ZONE_IDS, (len(zones.lines),))
        ids = [str(row[0]) for row in cursor.fetchall()]
        cursor.copy_expert(
            imports_sql.COPY_ZONES_WITH_IDS,
            io.StringIO("".join(f"{zone_id}\t{line}\n"
                                for zone_id, line in zip(ids, zones.lines, strict=True))))
        # The risk status is the database's own (a generated column), copied to the pieces.
        cursor.execute(imports_sql.ZONE_STATUSES, (ids,))
        status = dict(cursor.fetchall())
        cursor.copy_expert(
            imports_sql.COPY_PIECES_BINARY,
            io.BytesIO(binary_piece_rows([(zone_id, status[zone_id]) for zone_id in ids],
                                         zones.piece_owners, zones.piece_ewkb)))


def importer_cuts_pieces(dbapi: Any, on: bool) -> None:
    """Tell the insert trigger of flood_zones (migration 0006) who cuts large zones' pieces."""
    with dbapi.cursor() as cursor:
        cursor.execute(imports_sql.IMPORTER_CUTS_PIECES, ("on" if on else "off",))


def retire_older_versions(session: Session, dataset: Dataset) -> list[int]:
    """Retire the ready datasets of the same name; they stay for `as_of` lookups."""
    superseded_on = dataset.effective_date or dt.date.today()
    retired = session.scalars(imports_sql.retire_older_versions(dataset, superseded_on)).all()
    return list(retired)


def import_layer(session: Session, dataset: Dataset, source: str | Path,
                 options: ImportOptions, progress: Progress | None = None) -> ImportReport:
    """Import a vector file into `dataset` within the session's transaction; the caller commits.

    On InvalidInput nothing has been written that the caller's rollback does not undo.
    """
    started = time.perf_counter()
    plan = plan_layer(source, options)
    report = ImportReport(source=Path(str(source)).name, layer=plan.layer,
                          source_crs=plan.crs_label, encoding=plan.encoding)
    dbapi = session.connection().connection.dbapi_connection
    importer_cuts_pieces(dbapi, True)
    # The database loads one batch while Python prepares the next (the driver, PROJ and GEOS
    # release the GIL); only one statement is ever in flight on the connection. Large zones
    # are cut on two helper threads, a few batches ahead of their load.
    with ThreadPoolExecutor(max_workers=1) as loader, \
            ThreadPoolExecutor(max_workers=2) as helpers:
        writer = ChunkWriter(plan, options, report, dataset.id, helpers)
        in_flight: Future[None] | None = None

        def load(task: Callable[..., None], *args: Any) -> None:
            nonlocal in_flight
            if in_flight is not None:
                in_flight.result()
            in_flight = loader.submit(task, dbapi, *args)

        for first, geometries, names, columns in read_chunks(plan, options):
            rows = writer.rows(first, geometries, names, columns)
            if rows.small:
                load(copy_rows, rows.small)
            cuts: deque[Future[CutZones]] = deque()
            for lines, large in rows.large_batches():
                cuts.append(helpers.submit(CutZones.cut, lines, large))
                if len(cuts) > CUTS_AHEAD:
                    load(copy_cut_zones, cuts.popleft().result())
            while cuts:
                load(copy_cut_zones, cuts.popleft().result())
            report.imported += rows.count
            if progress is not None:
                progress(report.features_read, plan.feature_count)
        if in_flight is not None:
            in_flight.result()
    importer_cuts_pieces(dbapi, False)
    if report.rejected_count and not options.repair:
        raise ImportRejected(report)
    if report.imported == 0:
        why = "".join(f"; feature {r['index']}: {r['reason']}" for r in report.rejected[:3])
        raise InvalidInput(f"no polygon could be imported from layer {plan.layer!r} "
                           f"({report.features_read} features read{why})",
                           code="nothing_imported")
    dataset.source_crs = plan.crs_label
    dataset.effective_date = options.effective_date
    bounds = tuple(float(v) for v in writer.bounds)
    dataset.feature_count = report.imported
    dataset.bbox = shapes_sql.envelope(bounds, shapes_sql.SRID)
    report.superseded_dataset_ids = retire_older_versions(session, dataset)
    report.zones = dict(sorted(writer.zones.items()))
    report.bbox = [round(v, 7) for v in bounds]
    report.elapsed_s = round(time.perf_counter() - started, 3)
    dataset.status = DatasetStatus.READY
    dataset.progress = 1.0
    dataset.error = None
    dataset.import_report = report.as_json()
    session.flush()
    return report


class ImportRejected(InvalidInput):
    """Invalid features were found and repair was off: nothing is imported."""

    code = "invalid_geometries"

    def __init__(self, report: ImportReport) -> None:
        listed = "; ".join(f"feature {r['index']}: {r['reason']}" for r in report.rejected[:5])
        super().__init__(f"{report.rejected_count} feature(s) refused and repair=false, so "
                         f"nothing was imported: {listed}")
        self.report = report

