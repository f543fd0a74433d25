"""Builders of odd and bad upload files, made in code (no binaries in the repository)."""

from __future__ import annotations

import math
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import shapely
from shapely.geometry import Polygon, box

SAMPLE_ZIP = Path(__file__).resolve().parent.parent / "data" / "sample" / (
    "manasquan_nfhl_nj_stateplane.zip")


def write_layer(path: Path, geometries: Sequence[Any], fields: Mapping[str, Sequence[Any]],
                crs: str | None = "EPSG:4326", driver: str | None = None,
                layer: str | None = None, encoding: str | None = None,
                geometry_type: str = "Unknown") -> Path:
    """Write features with pyogrio (any GDAL driver)."""
    names = list(fields)
    columns = [np.array(list(values), dtype=object if any(isinstance(v, str) or v is None
                                                            for v in values) else None)
               for values in fields.values()]
    wkb = np.array([shapely.to_wkb(g) for g in geometries], dtype=object)
    pyogrio.raw.write(str(path), wkb, columns, names, crs=crs, driver=driver, layer=layer,
                      encoding=encoding, geometry_type=geometry_type, append=path.exists()
                      and driver == "GPKG")
    return path


def zip_files(target: Path, files: Sequence[Path], folder: str = "") -> Path:
    """Zip files, optionally inside a folder of the archive."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.write(file, f"{folder}{file.name}")
    return target


def shapefile_parts(shp: Path) -> list[Path]:
    """The files of a shapefile."""
    return sorted(p for p in shp.parent.iterdir() if p.stem == shp.stem)


def nfhl_squares(count: int = 3, x0: float = -80.0, y0: float = 30.0) -> tuple[list, dict]:
    """Small NFHL-schema AE squares in a row (geometries, fields)."""
    geometries = [box(x0 + i * 0.01, y0, x0 + i * 0.01 + 0.009, y0 + 0.009)
                  for i in range(count)]
    fields = {
        "FLD_ZONE": ["AE"] * count,
        "ZONE_SUBTY": [""] * count,
        "SFHA_TF": ["T"] * count,
        "STATIC_BFE": [float(8 + i) for i in range(count)],
        "FLD_AR_ID": [f"T_{i}" for i in range(count)],
    }
    return geometries, fields


def wavy_ring(cx: float, cy: float, radius: float, vertices: int) -> list[tuple[float, float]]:
    """A closed, simple, star-shaped ring of `vertices` vertices."""
    points = [(cx + radius * (1 + 0.2 * math.sin(7 * t)) * math.cos(t),
               cy + radius * (1 + 0.2 * math.sin(7 * t)) * math.sin(t))
              for t in (2 * math.pi * i / vertices for i in range(vertices))]
    return [*points, points[0]]


def detailed_zone(vertices: int = 5_000, holes: int = 6) -> Polygon:
    """A polygon with a detailed shell and small detailed holes."""
    inner = [wavy_ring(3 * math.cos(a), 3 * math.sin(a), 0.5, 200)[::-1]
             for a in np.linspace(0, 2 * math.pi, holes, endpoint=False)]
    return Polygon(wavy_ring(0, 0, 6, vertices), inner)


def vrt_document(source: str, layer: str, geometry_field: str = "WKT") -> str:
    """An OGR VRT document exposing `layer` of `source` (a path, CSV:path, /vsicurl/url)."""
    return (f"<OGRVRTDataSource><OGRVRTLayer name=\"S_FLD_HAZ_AR\">"
            f"<SrcDataSource>{source}</SrcDataSource><SrcLayer>{layer}</SrcLayer>"
            "<GeometryType>wkbPolygon</GeometryType><LayerSRS>EPSG:4326</LayerSRS>"
            "<FeatureCount>1</FeatureCount>"
            f"<GeometryField encoding=\"WKT\" field=\"{geometry_field}\"/>"
            "</OGRVRTLayer></OGRVRTDataSource>")


def kml_document(placemark_extra: str = "", document_extra: str = "",
                 ring: str = "-80,30 -79.99,30 -79.99,30.01 -80,30") -> str:
    """A one-placemark KML document with an NFHL zone; extra elements where asked."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f"{document_extra}<Placemark><name>zone</name>{placemark_extra}"
            "<ExtendedData><Data name=\"FLD_ZONE\"><value>AE</value></Data></ExtendedData>"
            f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{ring}</coordinates>"
            "</LinearRing></outerBoundaryIs></Polygon></Placemark></Document></kml>")


def geojson_document(rings: Sequence[Sequence[Sequence[float]]],
                     crs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A FeatureCollection of AE polygons, one per ring, with an optional (2008) crs member."""
    document: dict[str, Any] = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"FLD_ZONE": "AE", "FLD_AR_ID": f"R_{i}"},
         "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}}
        for i, ring in enumerate(rings)]}
    if crs is not None:
        document["crs"] = dict(crs)
    return document
