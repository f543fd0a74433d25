"""CRSs: those the API offers (OGC API - Features Part 2) and those users' files come in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyproj import CRS
from pyproj.exceptions import CRSError

from geoapp.errors import InvalidInput, InvalidParameter


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


# CRSs that describe users' files: a source_crs they give, or what a file declares. PROJ
# reads files for some PROJ-string parameters (+init=file:id, grids) and WKT nodes
# (EXTENSION["PROJ4", ...], PARAMETERFILE); only definitions that need no file are taken.
AUTHORITY_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_]*:[A-Za-z0-9._]+")
OGC_NAME = re.compile(r"(?:urn:ogc:def:crs:[A-Za-z0-9.:_-]+|"
                      r"https?://www\.opengis\.net/def/crs/[A-Za-z0-9._/-]+)")
WKT_START = re.compile(r"[A-Z][A-Z0-9_]*\s*[\[(]")
# PROJ parameters that read a file: init= and file= always; grids (nadgrids=, geoidgrids=,
# grids=) when they name a path or URL rather than a grid of PROJ's own (conus, @null).
FILE_PARAMETER = re.compile(r"(?:^|[\s+\"'])(init|file|[a-z]*grids)\s*=\s*([^\s\"'\]]*)",
                            re.IGNORECASE)
WKT_FILE_NODE = re.compile(r'PARAMETERFILE\s*\[\s*"[^"]*"\s*,\s*"([^"]*)"', re.IGNORECASE)
GRID_NAME = re.compile(r"[@A-Za-z0-9_.,-]*")
MAX_CRS_TEXT = 20_000


def parse_source_crs(text: str, origin: str) -> CRS:
    """The CRS a user or a file gives, refused (invalid_crs) unless it stands on its own.

    Accepted: authority codes (EPSG:3424, ESRI:102711), OGC URNs and URLs, WKT and PROJ
    strings that reference no file, grid or init file. `origin` names where it came from.
    """
    definition = text.strip()
    if not definition or len(definition) > MAX_CRS_TEXT:
        raise InvalidInput(f"{origin} is not a CRS definition", code="invalid_crs")
    shown = definition[:80]
    if AUTHORITY_CODE.fullmatch(definition) or OGC_NAME.fullmatch(definition):
        kind = "name"
    elif WKT_START.match(definition):
        kind = "wkt"
    elif definition.startswith("+") or definition.startswith("proj="):
        kind = "proj"
    else:
        raise InvalidInput(
            f"{origin} {shown!r} is not a CRS code (e.g. EPSG:3424), WKT or PROJ string",
            code="invalid_crs")
    if kind != "name" and reads_files(definition):
        raise InvalidInput(
            f"{origin} refers to a file (init=, file= or a grid path), which is not read; "
            "give a CRS that needs none (e.g. EPSG:3424)", code="invalid_crs")
    try:
        crs = CRS.from_user_input(definition)
    except CRSError:
        raise InvalidInput(f"{origin} {shown!r} is not a known CRS",
                           code="invalid_crs") from None
    if not (crs.is_geographic or crs.is_projected):
        raise InvalidInput(
            f"{origin} {shown!r} is not a geographic or projected CRS, so it cannot be "
            "converted to longitude and latitude", code="invalid_crs")
    return crs


def reads_files(definition: str) -> bool:
    """Whether a WKT or PROJ string would make PROJ read a file (init, file, grid paths)."""
    for found in FILE_PARAMETER.finditer(definition):
        key, value = found.group(1).lower(), found.group(2)
        if not key.endswith("grids") or not GRID_NAME.fullmatch(value) or value.startswith("."):
            return True
    return any(not GRID_NAME.fullmatch(found.group(1)) or found.group(1).startswith(".")
               for found in WKT_FILE_NODE.finditer(definition))
