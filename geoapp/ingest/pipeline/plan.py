"""Stage 1, plan: open the file and decide how to read it (layer, CRS, encoding, fields).

Everything that can be refused without reading the features is refused here: a layer that
is not there or not polygons, a CRS that cannot be read or converted to lon/lat, a driver
other than the one the file's extension names, a schema with no zone code field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pyogrio
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError

from geoapp.errors import InvalidInput
from geoapp.geo.crs import parse_source_crs
from geoapp.ingest import gdal_safety
from geoapp.ingest.files import expected_drivers, public_reason, sibling_file
from geoapp.ingest.request import ImportRequest
from geoapp.ingest.sources import WGS84, crs_label
from geoapp.nfhl.attributes import NUMBER_FIELDS, TEXT_FIELDS
from geoapp.nfhl.layers import missing_zone_layer

# How GDAL decodes a .dbf that comes without a .cpg and whose header names no code page.
SHAPEFILE_DEFAULT_ENCODING = "ISO-8859-1"
DBF_LANGUAGE_DRIVER_BYTE = 29
NFHL_LAYER = "S_FLD_HAZ_AR"
# Target fields a mapping may fill, and the only one that is required.
MAPPABLE_FIELDS = {*TEXT_FIELDS.values(), *NUMBER_FIELDS.values(), "SFHA_TF"}
REQUIRED_FIELD = "FLD_ZONE"


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
    nfhl = [name for name in layers if name.upper().endswith(NFHL_LAYER)]
    if nfhl:
        return nfhl[0]
    if missing := missing_zone_layer(layers):
        raise InvalidInput(missing, code="missing_zone_layer")
    if len(layers) == 1:
        return layers[0]
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


def plan_layer(path: str | Path, options: ImportRequest) -> LayerPlan:
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


