"""The basemap under the zones, decided once per app from ``GEOAPP_BASEMAP_URL``.

The setting is one of:

- empty or ``none``: no basemap (the default, for closed networks);
- a tile URL template with ``{z}``, ``{x}`` and ``{y}`` (``{s}``, ``{r}``, ``{-y}`` as Leaflet
  reads them), on another server (``https://…``) or on this one (``/…``);
- the path of a raster ``.mbtiles`` file, whose tiles this blueprint serves at
  ``/basemap/tiles/{z}/{x}/{y}``, or of a ``.pmtiles`` archive (raster, or vector tiles of the
  Protomaps basemap schema), served whole at ``/basemap/archive.pmtiles`` with Range requests
  and read by the browser (npm ``pmtiles``, ``protomaps-leaflet``). A relative path is taken
  from the instance folder.

Anything else, or a file that cannot be used, means no basemap: one warning in the log when
the app starts, a note on the map, and never a request to another host.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import re
import sqlite3
import struct
from dataclasses import dataclass
from logging import Logger
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, request, send_file, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue

from geoapp.db.queries import mbtiles
from geoapp.errors import NotFound

bp = Blueprint("basemap", __name__)

# What a basemap is.
NONE = "none"
TILES = "tiles"  # a tile URL template, drawn by Leaflet as it is
MBTILES = "mbtiles"  # raster tiles of an MBTiles file, served one by one
PMTILES_RASTER = "pmtiles-raster"  # a PMTiles archive served whole, read by the browser
PMTILES_VECTOR = "pmtiles-vector"
PMTILES_KINDS = (PMTILES_RASTER, PMTILES_VECTOR)

# Basemaps change rarely; clients revalidate with the ETag afterwards.
MAX_AGE_S = 24 * 3600
DEEPEST_ZOOM = 30
MBTILES_MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
                       "webp": "image/webp"}
# The leading bytes of each raster format, for an MBTiles file whose metadata names none.
MAGIC = ((b"\x89PNG", "png"), (b"\xff\xd8\xff", "jpg"), (b"RIFF", "webp"))
PMTILES_MEDIA_TYPE = "application/vnd.pmtiles"
# PMTiles v3: a 127-byte header; tile types 1 MVT, 2 PNG, 3 JPEG, 4 WebP, 5 AVIF.
PMTILES_HEADER_BYTES = 127
PMTILES_MVT, PMTILES_RASTER_TYPES = 1, (2, 3, 4, 5)
PMTILES_GZIP, PMTILES_UNCOMPRESSED = 2, 1
# Tile compressions the browser library reads: unknown (0, as rasters often say), none, gzip.
PMTILES_TILE_COMPRESSIONS = (0, PMTILES_UNCOMPRESSED, PMTILES_GZIP)

NOTE_UNSET = ("No basemap configured: set GEOAPP_BASEMAP_URL to a tile URL, an .mbtiles or a "
              ".pmtiles file.")
NOTE_UNUSABLE = "No basemap: the configured basemap cannot be used (see the server log)."
EXTENSION_KEY = "geoapp.basemap"
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Basemap:
    """What the maps draw under the zones, and what the app serves for it."""

    kind: str
    source: str = ""  # the tile URL template, or the file's absolute path
    attribution: str = ""  # HTML, as Leaflet shows it
    min_zoom: int = 0
    max_zoom: int | None = None  # the deepest zoom the tiles have (then scaled up)
    bounds: tuple[float, float, float, float] | None = None  # west, south, east, north
    media_type: str = ""  # of an MBTiles file's tiles
    note: str = ""  # shown on the map when there is no basemap

    @property
    def tile_url(self) -> str:
        """The tile URL template the browser fetches, for the CSP: '' when the app serves it."""
        return self.source if self.kind == TILES else ""

    @property
    def images_from_blobs(self) -> bool:
        """Whether the map's tile images are blob: URLs (PMTiles raster tiles decoded in JS)."""
        return self.kind == PMTILES_RASTER


class Unusable(Exception):
    """Why a configured basemap cannot be drawn (logged once, at start-up)."""


def resolve(setting: str, attribution: str, instance_path: str, logger: Logger) -> Basemap:
    """The basemap a setting names; no basemap, with one warning, when it cannot be used."""
    value = setting.strip()
    if value.lower() in ("", NONE):
        logger.warning("no basemap configured: the maps draw no background; set "
                       "GEOAPP_BASEMAP_URL to a tile URL template, an .mbtiles or a .pmtiles "
                       "file")
        return Basemap(NONE, note=NOTE_UNSET)
    try:
        return _basemap(value, attribution.strip(), instance_path)
    except Unusable as exc:
        logger.warning("GEOAPP_BASEMAP_URL=%r cannot be used: %s; the maps draw no background",
                       value, exc)
        return Basemap(NONE, note=NOTE_UNUSABLE)


def _basemap(value: str, attribution: str, instance_path: str) -> Basemap:
    is_url = "://" in value
    suffix = Path(urlsplit(value).path if is_url else value).suffix.lower()
    if not is_url and suffix in (".mbtiles", ".pmtiles"):
        path = Path(instance_path, value).resolve()  # an absolute value stays as it is
        if not path.is_file():
            raise Unusable(f"{path} is not a readable file")
        if suffix == ".mbtiles":
            return mbtiles_basemap(path, attribution)
        return pmtiles_basemap(path, attribution)
    if is_tile_template(value):
        return Basemap(TILES, source=value, attribution=attribution)
    if suffix in (".mbtiles", ".pmtiles"):
        raise Unusable("only files on this server are served: give the file's path")
    raise Unusable("it is neither a tile URL template (http(s)://… or /… with {z}, {x} and "
                   "{y}) nor the path of an .mbtiles or .pmtiles file")


def is_tile_template(value: str) -> bool:
    """An http(s) URL, or a path on this server, with the {z}, {x} and {y} of a tile."""
    parts = urlsplit(value)
    placed = all(p in value for p in ("{z}", "{x}")) and ("{y}" in value or "{-y}" in value)
    if not placed or any(c.isspace() or c in "\"'<>\\" for c in value):
        return False
    if parts.scheme in ("http", "https"):
        return bool(parts.netloc)
    return not parts.scheme and not parts.netloc and value.startswith("/")


def plain_attribution(text: str) -> str:
    """A file's own attribution as escaped text (its markup dropped): files come from anywhere."""
    return html.escape(html.unescape(_TAG.sub("", text)).strip())


def _zoom(value: Any) -> int | None:
    try:
        zoom = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return zoom if 0 <= zoom <= DEEPEST_ZOOM else None


def _bounds(west: float, south: float, east: float,
            north: float) -> tuple[float, float, float, float] | None:
    box = (west, south, east, north)
    if -180 <= west < east <= 180 and -90 <= south < north <= 90:
        return box
    return None


# --- MBTiles


def mbtiles_basemap(path: Path, attribution: str) -> Basemap:
    """A raster MBTiles file's basemap, from its metadata table."""
    try:
        metadata, first, zooms = mbtiles.describe(path)
    except sqlite3.Error as exc:
        raise Unusable(f"{path} is not a readable MBTiles file ({exc})") from exc
    fmt = metadata.get("format", "").strip().lower().removeprefix("image/")
    if not fmt and first is not None:
        fmt = next((name for magic, name in MAGIC if first.startswith(magic)), "")
    if fmt == "pbf":
        raise Unusable(f"{path} holds vector tiles (format pbf), which the map draws only from "
                       "a .pmtiles archive: convert it (`pmtiles convert`) or use raster tiles")
    if fmt not in MBTILES_MEDIA_TYPES:
        raise Unusable(f"{path} holds tiles of format {fmt or 'unknown'!r}; png, jpg and webp "
                       "can be drawn")
    if zooms is None:
        raise Unusable(f"{path} holds no tile")
    min_zoom = _zoom(metadata.get("minzoom"))
    max_zoom = _zoom(metadata.get("maxzoom"))
    bounds = None
    try:
        bounds = _bounds(*(float(v) for v in metadata.get("bounds", "").split(",")))
    except (TypeError, ValueError):
        pass
    return Basemap(
        MBTILES, source=str(path),
        attribution=attribution or plain_attribution(metadata.get("attribution", "")),
        min_zoom=zooms[0] if min_zoom is None else min_zoom,
        max_zoom=zooms[1] if max_zoom is None else max_zoom,
        bounds=bounds, media_type=MBTILES_MEDIA_TYPES[fmt])


# --- PMTiles


def pmtiles_basemap(path: Path, attribution: str) -> Basemap:
    """A PMTiles v3 archive's basemap, from its 127-byte header (and JSON metadata)."""
    try:
        with path.open("rb") as handle:
            header = handle.read(PMTILES_HEADER_BYTES)
            if len(header) < PMTILES_HEADER_BYTES or header[:7] != b"PMTiles":
                raise Unusable(f"{path} is not a PMTiles archive")
            if header[7] != 3:
                raise Unusable(f"{path} is a PMTiles archive of version {header[7]}; "
                               "version 3 can be read (`pmtiles convert` upgrades it)")
            compression, tile_type = header[98], header[99]
            min_zoom, max_zoom = header[100], header[101]
            metadata = _pmtiles_metadata(handle, header) if not attribution else {}
    except OSError as exc:
        raise Unusable(f"{path} cannot be read ({exc})") from exc
    if tile_type == PMTILES_MVT:
        kind = PMTILES_VECTOR
    elif tile_type in PMTILES_RASTER_TYPES:
        kind = PMTILES_RASTER
    else:
        raise Unusable(f"{path} holds tiles of an unknown type ({tile_type})")
    if compression not in PMTILES_TILE_COMPRESSIONS:
        raise Unusable(f"{path} compresses its tiles with brotli or zstd, which the browser "
                       "cannot read: `pmtiles convert` it with gzip")
    west, south, east, north = (v / 1e7 for v in struct.unpack_from("<4i", header, 102))
    if not attribution and isinstance(metadata.get("attribution"), str):
        attribution = plain_attribution(metadata["attribution"])
    return Basemap(kind, source=str(path), attribution=attribution,
                   min_zoom=min(min_zoom, DEEPEST_ZOOM), max_zoom=min(max_zoom, DEEPEST_ZOOM),
                   bounds=_bounds(west, south, east, north))


def _pmtiles_metadata(handle: Any, header: bytes) -> dict[str, Any]:
    """The archive's JSON metadata when small and stored plainly or gzipped; else {}."""
    offset, length = struct.unpack_from("<2Q", header, 24)
    if not 0 < length <= 1 << 20 or header[97] not in (PMTILES_UNCOMPRESSED, PMTILES_GZIP):
        return {}
    handle.seek(offset)
    raw = handle.read(length)
    try:
        text = gzip.decompress(raw) if header[97] == PMTILES_GZIP else raw
        metadata = json.loads(text)
    except (OSError, EOFError, ValueError):
        return {}
    return metadata if isinstance(metadata, dict) else {}


# --- the app's basemap


def basemap_of(app: Flask) -> Basemap:
    """The app's basemap, decided once (again only if a test changes the settings)."""
    setting = (str(app.config["GEOAPP_BASEMAP_URL"] or ""),
               str(app.config["GEOAPP_BASEMAP_ATTRIBUTION"] or ""))
    cached = app.extensions.get(EXTENSION_KEY)
    if cached is None or cached[0] != setting:
        cached = app.extensions[EXTENSION_KEY] = (
            setting, resolve(*setting, app.instance_path, app.logger))
    return cached[1]


def current_basemap() -> Basemap:
    """The basemap of the app handling this request."""
    return basemap_of(current_app)


def decide_at_start(state: BlueprintSetupState) -> None:
    """Decide (and warn about) the basemap when the app is built, not at the first map."""
    basemap_of(state.app)


bp.record_once(decide_at_start)


def leaflet_source(basemap: Basemap) -> str:
    """The URL the map's basemap layer is given (a tile template, or the archive's URL)."""
    if basemap.kind == MBTILES:
        first = url_for("basemap.tile", z=0, x=0, y=0)
        return first.rsplit("/0/0/0", 1)[0] + "/{z}/{x}/{y}"
    if basemap.kind in PMTILES_KINDS:
        return url_for("basemap.archive")
    return basemap.source


@bp.get("/basemap/tiles/<int:z>/<int:x>/<int:y>")
def tile(z: int, x: int, y: int) -> ResponseReturnValue:
    """One tile of the configured MBTiles file (XYZ numbering, as Leaflet asks)."""
    basemap = current_basemap()
    if basemap.kind != MBTILES:
        raise NotFound("no MBTiles basemap is configured")
    if z > DEEPEST_ZOOM or x >= 1 << z or y >= 1 << z:
        raise NotFound(f"no basemap tile {z}/{x}/{y}")
    try:
        data = mbtiles.tile(basemap.source, z, x, y)
    except sqlite3.Error as exc:
        current_app.logger.warning("basemap tile %s/%s/%s of %s: %s", z, x, y,
                                   basemap.source, exc)
        raise NotFound(f"no basemap tile {z}/{x}/{y}") from exc
    if data is None:
        raise NotFound(f"no basemap tile {z}/{x}/{y}")
    response = Response(data, mimetype=basemap.media_type)
    response.set_etag(hashlib.blake2b(data, digest_size=16).hexdigest())
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE_S
    return response.make_conditional(request)


@bp.get("/basemap/archive.pmtiles")
def archive() -> ResponseReturnValue:
    """The configured PMTiles archive, read by the browser in ranges (206 Partial Content)."""
    basemap = current_basemap()
    if basemap.kind not in PMTILES_KINDS:
        raise NotFound("no PMTiles basemap is configured")
    try:
        return send_file(basemap.source, mimetype=PMTILES_MEDIA_TYPE, conditional=True,
                         etag=True, max_age=MAX_AGE_S)
    except OSError as exc:
        current_app.logger.warning("basemap archive %s: %s", basemap.source, exc)
        raise NotFound("the basemap archive cannot be read") from exc
