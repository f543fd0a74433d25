"""The rest of an NFHL/DFIRM package: finding its layers and loading them beside the zones.

A package is a File Geodatabase, or a zip or folder of shapefiles and `.dbf` tables in any
sub-folders. Layers are found by their FEMA name in any case (`geoapp.nfhl.layers`); the
flood hazard layer goes through the zone pipeline, every other known layer into its own table
of the same dataset version, in the caller's transaction, so a refusal or a killed worker
leaves none of them. Layers FloodManager does not use are listed in the report as skipped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import shapely
from geoalchemy2 import WKBElement
from pyproj import Transformer
from pyproj.exceptions import CRSError, ProjError
from sqlalchemy.orm import Session

from geoapp.db.models import PACKAGE_MODELS, Dataset
from geoapp.db.queries import package as package_sql
from geoapp.errors import InvalidInput
from geoapp.geo.crs import parse_source_crs
from geoapp.ingest import gdal_safety
from geoapp.ingest.files import (
    check_content,
    check_shapefile_complete,
    check_table_complete,
    expected_drivers,
    public_reason,
    sibling_file,
)
from geoapp.ingest.request import ImportRequest
from geoapp.ingest.sources import WGS84, crs_label
from geoapp.nfhl import layers as nfhl_layers
from geoapp.nfhl.attributes import json_safe
from geoapp.nfhl.layers import GeometryKind, LayerSpec

# Rows sent to the database per INSERT of a package layer.
INSERT_BATCH = 2000
# Dangling community keys listed in the report (all are counted).
DANGLING_LISTED = 20


@dataclass(frozen=True)
class FoundLayer:
    """One layer of a package: its FEMA name, the file GDAL opens and the layer in it."""

    name: str
    path: str
    layer: str | None
    label: str  # as the user knows it: "S_BFE.shp", "34025C.gdb/S_BFE"


@dataclass(frozen=True)
class Package:
    """The known layers of a package (not the zones), and the names of those skipped."""

    layers: tuple[FoundLayer, ...]
    skipped: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.layers) or bool(self.skipped)


def find_in_geodatabase(gdb: Path) -> Package:
    """The package layers of a File Geodatabase, by layer name."""
    try:
        names = [str(name) for name, _ in pyogrio.list_layers(str(gdb))]
    except pyogrio.errors.DataSourceError as exc:
        raise InvalidInput(f"GDAL cannot read {gdb.name}: {public_reason(exc)}",
                           code="unreadable_file") from None
    found: dict[str, FoundLayer] = {}
    skipped: list[str] = []
    for name in names:
        known = nfhl_layers.package_layer_name(name)
        if known is None or known in found:
            skipped.append(name)
        elif known != nfhl_layers.ZONE_LAYER:
            found[known] = FoundLayer(known, str(gdb), name, f"{gdb.name}/{name}")
    return Package(tuple(found.values()), tuple(skipped))


def find_in_folder(root: Path, zones: Path) -> Package:
    """The package layers among a folder's shapefiles and `.dbf` tables (any sub-folder)."""
    candidates = sorted(
        (path for path in root.rglob("*")
         if path.is_file() and path.suffix.lower() in (".shp", ".dbf")),
        key=lambda p: (len(p.parts), str(p).lower()))
    found: dict[str, FoundLayer] = {}
    skipped: list[str] = []
    for path in candidates:
        if path.suffix.lower() == ".dbf" and sibling_file(path, ".shp") is not None:
            continue  # the attribute table of a shapefile, read with it
        known = nfhl_layers.package_layer_name(path.stem)
        label = path.relative_to(root).as_posix()
        if path == zones:
            continue
        if known is None or known in found or known == nfhl_layers.ZONE_LAYER:
            skipped.append(label)
            continue
        found[known] = FoundLayer(known, str(path), None, label)
    return Package(tuple(found.values()), tuple(skipped))


def find_package(root: Path | None, zones: Path) -> Package:
    """The package around the zone layer at `zones`; empty for a lone layer file."""
    if zones.is_dir():
        return find_in_geodatabase(zones)
    if root is None:
        return Package((), ())
    return find_in_folder(root, zones)


@dataclass
class LayerRows:
    """A package layer read and cleaned: typed values, verbatim attributes, geometry WKB."""

    rows: list[dict[str, Any]]
    read: int
    skipped_empty: int
    source_crs: str | None


def read_package_layer(found: FoundLayer, spec: LayerSpec, request: ImportRequest) -> LayerRows:
    """Read one package layer with GDAL, its sentinels cleaned and geometry in EPSG:4326."""
    gdal_safety.apply()
    path = Path(found.path)
    allowed = expected_drivers(path)
    if found.layer is None:
        check_package_file(path, found)
    try:
        info = pyogrio.read_info(found.path, layer=found.layer, encoding=request.encoding)
        if str(info.get("driver") or "") not in allowed:
            raise InvalidInput(f"layer {found.label} is not the data its name says",
                               code="wrong_content")
        meta, _fids, wkb, field_data = pyogrio.raw.read(
            found.path, layer=found.layer, encoding=request.encoding,
            read_geometry=spec.geometry is not GeometryKind.NONE)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            pyogrio.errors.CRSError, LookupError) as exc:
        raise InvalidInput(f"layer {found.name} ({found.label}) cannot be read: "
                           f"{public_reason(exc)}; nothing was imported",
                           code="unreadable_layer") from None
    names = [str(name) for name in meta["fields"]]
    sources = nfhl_layers.field_sources(spec, names)
    if spec.key and spec.key not in sources:
        raise InvalidInput(
            f"layer {found.name} ({found.label}) has no {spec.key.upper()} field, the key "
            f"other layers refer to it by (fields: {', '.join(names) or 'none'})",
            code="layer_key_mismatch")
    count = len(field_data[0]) if field_data else int(info.get("features") or 0)
    geometries, source_crs = None, None
    if spec.geometry is not GeometryKind.NONE:
        geometries, source_crs = package_geometries(found, spec, meta, wkb, request)
        count = len(geometries)
    rows: list[dict[str, Any]] = []
    skipped = 0
    columns = [np.asarray(values).tolist() if hasattr(values, "tolist") else list(values)
               for values in field_data]
    for index in range(count):
        properties = {name: column[index] for name, column in zip(names, columns, strict=True)}
        row = nfhl_layers.typed_values(spec, properties, sources)
        row["attributes"] = json_safe(properties)
        if geometries is not None:
            geometry = geometries[index]
            if geometry is None:
                skipped += 1
                continue
            row["geom"] = WKBElement(shapely.to_wkb(geometry), srid=4326)
        rows.append(row)
    return LayerRows(rows, count, skipped, source_crs)


def check_package_file(path: Path, found: FoundLayer) -> None:
    """A shapefile or table of a package checked as the zones are: its content is what its
    name says, nothing is cut short, a shapefile has its index. GDAL would otherwise read a
    truncated layer as fewer features, and a missing CBRS unit is a wrong answer."""
    try:
        if path.suffix.lower() == ".shp":
            check_content(path)
            if sibling_file(path, ".shx") is None:
                raise InvalidInput(f"{path.name} comes without its .shx index",
                                   code="incomplete_shapefile")
            check_shapefile_complete(path)
        else:
            check_table_complete(path)
    except InvalidInput as error:
        raise InvalidInput(f"layer {found.name} ({found.label}): {error.message}; nothing "
                           "was imported", code=error.code) from None


def package_geometries(found: FoundLayer, spec: LayerSpec, meta: dict[str, Any],
                       wkb: Any, request: ImportRequest) -> tuple[list[Any], str]:
    """A layer's geometries in EPSG:4326, 2D, multi-part, valid; None for empty ones."""
    if meta.get("crs"):
        crs = parse_source_crs(str(meta["crs"]), f"the coordinate reference system of layer "
                               f"{found.name} ({found.label})")
    elif request.source_crs:
        crs = parse_source_crs(request.source_crs, "source_crs")
    else:
        raise InvalidInput(f"layer {found.name} ({found.label}) declares no coordinate "
                           "reference system (no .prj?); nothing was imported",
                           code="missing_crs")
    geometries = shapely.force_2d(shapely.from_wkb(np.asarray(wkb, dtype=object)))
    if not crs.equals(WGS84, ignore_axis_order=True):
        try:
            to_wgs84 = Transformer.from_crs(crs, WGS84, always_xy=True)
        except (CRSError, ProjError):
            raise InvalidInput(f"layer {found.name}: coordinates in {crs_label(crs)} cannot "
                               "be converted to longitude and latitude",
                               code="invalid_crs") from None
        geometries = shapely.transform(geometries, to_wgs84.transform, interleaved=False)
    return [multi_part(geometry, spec.geometry) for geometry in geometries], crs_label(crs)


def multi_part(geometry: Any, kind: GeometryKind) -> Any:
    """The polygonal (or linear) part of a geometry as a Multi*, or None when there is none."""
    if geometry is None or geometry.is_empty:
        return None
    if kind is GeometryKind.POLYGON and not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    wanted = ("Polygon", "MultiPolygon") if kind is GeometryKind.POLYGON else (
        "LineString", "MultiLineString", "LinearRing")
    parts = [part for part in getattr(geometry, "geoms", [geometry])
             if part.geom_type in wanted and not part.is_empty]
    flat = [piece for part in parts for piece in getattr(part, "geoms", [part])]
    if not flat:
        return None
    if kind is GeometryKind.POLYGON:
        return shapely.MultiPolygon(flat)
    return shapely.MultiLineString([shapely.LineString(p.coords) for p in flat])


def import_package_layers(session: Session, dataset: Dataset, package: Package,
                          request: ImportRequest) -> dict[str, Any]:
    """Load every known layer of a package into its table for `dataset` (not committed).

    Returns the report's `package` part: rows per layer and the layers skipped. Raises
    InvalidInput naming the layer for one that cannot be read, has no CRS or whose key does
    not match; the caller's rollback then undoes every layer, zones included.
    """
    loaded: dict[str, Any] = {}
    keys: dict[str, Counter[str]] = {}
    for found in package.layers:
        if found.name == nfhl_layers.STUDY_INFO:
            dataset.study_info = read_study_info(found, request)
            loaded[found.name] = {"source": found.label, "rows": 1}
            continue
        spec = nfhl_layers.BY_NAME[found.name]
        layer_rows = read_package_layer(found, spec, request)
        model = PACKAGE_MODELS[found.name]
        for start in range(0, len(layer_rows.rows), INSERT_BATCH):
            batch = [{**row, "dataset_id": dataset.id}
                     for row in layer_rows.rows[start:start + INSERT_BATCH]]
            session.execute(package_sql.insert_layer_rows(model), batch)
        if spec.geometry is GeometryKind.POLYGON:
            session.execute(package_sql.cut_pieces(model, found.name, dataset.id))
        loaded[found.name] = {"source": found.label, "table": spec.table,
                              "rows": len(layer_rows.rows), "features_read": layer_rows.read,
                              "skipped_empty": layer_rows.skipped_empty,
                              "source_crs": layer_rows.source_crs}
        if found.name in ("S_POL_AR", "L_COMM_INFO"):
            keys[found.name] = Counter(row["com_nfo_id"] for row in layer_rows.rows
                                       if row.get("com_nfo_id"))
    report: dict[str, Any] = {"layers": loaded, "skipped": list(package.skipped)}
    if "S_POL_AR" in keys and "L_COMM_INFO" in keys:
        report["dangling_community_keys"] = check_community_keys(keys["S_POL_AR"],
                                                                 keys["L_COMM_INFO"])
    return report


def check_community_keys(areas: Counter[str], table: Counter[str]) -> list[str]:
    """S_POL_AR's COM_NFO_ID keys without a row in L_COMM_INFO (listed, not fatal); refuses
    a table none of whose keys matches."""
    dangling = sorted(key for key in areas if key not in table)
    if areas and dangling and len(dangling) == len(areas):
        raise InvalidInput(
            "layer L_COMM_INFO: none of its COM_NFO_ID keys matches the COM_NFO_ID of "
            f"S_POL_AR (for example {dangling[0]!r}); the two layers are not of one package",
            code="layer_key_mismatch")
    return dangling[:DANGLING_LISTED]


def read_study_info(found: FoundLayer, request: ImportRequest) -> dict[str, Any] | None:
    """STUDY_INFO's first row, cleaned of sentinels."""
    gdal_safety.apply()
    try:
        meta, _fids, _wkb, field_data = pyogrio.raw.read(
            found.path, layer=found.layer, encoding=request.encoding, read_geometry=False,
            max_features=1)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, LookupError) as exc:
        raise InvalidInput(f"layer STUDY_INFO ({found.label}) cannot be read: "
                           f"{public_reason(exc)}", code="unreadable_layer") from None
    if not field_data or not len(field_data[0]):
        return None
    row = {str(name): (column[0].item() if hasattr(column[0], "item") else column[0])
           for name, column in zip(meta["fields"], field_data, strict=True)}
    return nfhl_layers.clean_study_info(row)
