"""CRSs offered by the API and their axis order (OGC API - Features Part 2)."""

from __future__ import annotations

from dataclasses import dataclass

from geoapp.errors import InvalidParameter


@dataclass(frozen=True)
class ApiCrs:
    """A CRS the API can read bboxes in and write geometries in."""

    uri: str
    srid: int
    # EPSG:4326 is officially latitude first; CRS84 (the GeoJSON default) is longitude first.
    lat_first: bool
    default_precision: int


CRS84 = ApiCrs("http://www.opengis.net/def/crs/OGC/1.3/CRS84", 4326, False, 7)
EPSG_4326 = ApiCrs("http://www.opengis.net/def/crs/EPSG/0/4326", 4326, True, 7)
EPSG_3857 = ApiCrs("http://www.opengis.net/def/crs/EPSG/0/3857", 3857, False, 2)
SUPPORTED = (CRS84, EPSG_4326, EPSG_3857)

_ALIASES = {
    "CRS84": CRS84,
    "OGC:CRS84": CRS84,
    "[OGC:CRS84]": CRS84,
    "EPSG:4326": EPSG_4326,
    "[EPSG:4326]": EPSG_4326,
    "EPSG:3857": EPSG_3857,
    "[EPSG:3857]": EPSG_3857,
}


def parse_crs(value: str | None, parameter: str) -> ApiCrs:
    """The CRS named by a URI or short form (default CRS84); InvalidParameter otherwise."""
    if value is None or value.strip() == "":
        return CRS84
    text = value.strip()
    for crs in SUPPORTED:
        if text == crs.uri:
            return crs
    if text.upper() in _ALIASES:
        return _ALIASES[text.upper()]
    offered = ", ".join(crs.uri for crs in SUPPORTED)
    raise InvalidParameter(
        f"parameter '{parameter}': unsupported CRS {text[:80]!r}; use one of {offered}"
    )
