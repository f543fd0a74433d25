"""GDAL and PROJ locked down for untrusted files, process-wide (web, worker and CLI).

GDAL opens a file with whichever registered driver recognises its bytes, and several drivers
follow references found inside a file: a VRT names other datasets (any local path, `CSV:`,
`/vsicurl/`), a GeoJSON `"crs"` link is fetched over HTTP, a PROJ `+init=` reads a file. So:

- only the drivers the app reads uploads with or writes exports with stay registered; every
  other one (VRT, CSV-reading VRT tricks, GML, the network drivers, GPSBabel, rasters, ...)
  is removed through GDAL's own GDAL_SKIP mechanism;
- GDAL's HTTP client (CPLHTTPFetch) is replaced by a function that refuses every request,
  and the `/vsicurl/` family of file systems accepts no file name;
- PROJ (GDAL's copy and pyproj's) may not use the network.

`apply()` is idempotent and is called by `create_app` and again by the import pipeline
before it opens a file, so no code path opens an upload before the lock-down.
"""

from __future__ import annotations

import ctypes
import os
import threading
from pathlib import Path

# Drivers that read uploads (geoapp.ingest.files.EXPECTED_DRIVERS) and write exports
# (geoapp.ingest.exports.FORMATS; tests write their upload files with the same ones). CSV is kept
# for writing only: no upload is ever read with it (the pipeline checks the driver).
READ_DRIVERS = frozenset({"ESRI Shapefile", "OpenFileGDB", "GPKG", "GeoJSON", "LIBKML", "KML",
                          "FlatGeobuf"})
WRITE_DRIVERS = frozenset({"GPKG", "ESRI Shapefile", "GeoJSON", "FlatGeobuf", "CSV", "KML",
                           "OpenFileGDB"})
KEPT_DRIVERS = READ_DRIVERS | WRITE_DRIVERS
# rasterio's own copy of GDAL reads elevation and depth rasters: GeoTIFF in, Cloud Optimized
# GeoTIFF out, in-memory datasets and PNG for map tiles, and VRT for the warped views rasterio
# builds itself to reproject a tile (never a file: uploads are opened with GTiff alone and
# tiles only from the app's own COGs). Nothing else, vector or raster.
RASTER_DRIVERS = frozenset({"GTiff", "COG", "MEM", "PNG", "VRT"})

# No file name equals this, so /vsicurl/, /vsis3/, /vsigs/, ... open nothing.
NO_NETWORK_FILE = "/network-access-is-disabled-in-floodmanager"

CONFIG_OPTIONS = {
    # Every /vsicurl/-family open is checked against this one allowed name.
    "CPL_VSIL_CURL_ALLOWED_FILENAME": NO_NETWORK_FILE,
    # Belt and braces should a request get through anyway: fail fast, no retries.
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_TIMEOUT": "2",
    "GDAL_HTTP_MAX_RETRY": "0",
    # No plugin drivers from the environment (they would be registered outside our list).
    "GDAL_DRIVER_PATH": "disable",
    # A dataset must not read the process's standard input (/vsistdin/).
    "CPL_ALLOW_VSISTDIN": "NO",
    # Opening a file does not list its folder: drivers look up the side files they know by
    # name (.shx, .dbf, .prj, .cpg) and nothing else next to an upload is considered.
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    # No .aux.xml side files read or written next to uploads.
    "GDAL_PAM_ENABLED": "NO",
    # KML styles are never fetched from the styleUrl's document (the default, made explicit).
    "LIBKML_RESOLVE_STYLE": "NO",
    # SQLite-based files (GPKG) may not reach other datasets through VirtualOGR tables, nor
    # load SQLite extensions.
    "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",
    "OGR_SQLITE_LOAD_EXTENSIONS": None,
    # GDAL's PROJ: grids and definitions from the installed files only.
    "PROJ_NETWORK": "OFF",
}

_lock = threading.Lock()
_applied: list[bool] = []
# The refusing HTTP callback must outlive every GDAL call: keep a reference for the process.
_callbacks: list[object] = []


class _HttpResult(ctypes.Structure):
    """GDAL's CPLHTTPResult (cpl_http.h), as far as a refusal needs it."""

    _fields_ = [("nStatus", ctypes.c_int), ("pszContentType", ctypes.c_void_p),
                ("pszErrBuf", ctypes.c_void_p), ("nDataLen", ctypes.c_int),
                ("nDataAlloc", ctypes.c_int), ("pabyData", ctypes.c_void_p),
                ("papszHeaders", ctypes.c_void_p), ("nMimePartCount", ctypes.c_int),
                ("pasMimePart", ctypes.c_void_p)]


# CPLHTTPFetchCallbackFunc: (url, options, progress, progress arg, write, write arg, user data)
_FETCH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_char_p, *([ctypes.c_void_p] * 6))


def loaded_gdal_libraries() -> list[Path]:
    """The libgdal shared objects mapped into this process (pyogrio's bundled copy, ...)."""
    maps = Path("/proc/self/maps")
    if not maps.exists():  # not Linux: the copies a pyogrio wheel bundles, if loaded
        import pyogrio

        package = Path(pyogrio.__file__).parent
        candidates = [*package.parent.glob("pyogrio.libs/libgdal*"),
                      *package.glob(".dylibs/libgdal*")]
        return [path for path in candidates if is_loaded(path)]
    found: list[Path] = []
    with maps.open(encoding="utf-8", errors="replace") as mapped:
        for line in mapped:
            path = Path(line.rstrip("\n").split(maxsplit=5)[-1])
            if path.name.startswith("libgdal") and path not in found:
                found.append(path)
    return found


def is_loaded(path: Path) -> bool:
    """Whether a shared library is already loaded in this process."""
    try:
        ctypes.CDLL(str(path), mode=os.RTLD_NOLOAD)
    except OSError:
        return False
    return True


def gdal_libraries() -> list[tuple[ctypes.CDLL, frozenset[str]]]:
    """Each copy of libgdal in the process with the drivers it keeps: pyogrio's (vector
    uploads and exports) and rasterio's (rasters). Both wheels bundle their own."""
    import pyogrio  # noqa: F401  (loads and initialises GDAL, registering its drivers)
    import rasterio  # noqa: F401

    libraries = loaded_gdal_libraries()
    if not 1 <= len(libraries) <= 2:
        raise RuntimeError(f"expected pyogrio's and rasterio's GDAL, found {libraries}")
    kept = [(path, RASTER_DRIVERS if "rasterio" in str(path) else KEPT_DRIVERS)
            for path in libraries]
    return [(gdal_library(path), drivers) for path, drivers in kept]


def gdal_library(path: Path) -> ctypes.CDLL:
    """A libgdal already loaded (RTLD_NOLOAD: never another copy), its functions typed."""
    lib = ctypes.CDLL(str(path), mode=os.RTLD_NOLOAD)
    lib.GDALGetDriverCount.restype = ctypes.c_int
    lib.GDALGetDriver.restype = ctypes.c_void_p
    lib.GDALGetDriver.argtypes = [ctypes.c_int]
    lib.GDALGetDescription.restype = ctypes.c_char_p
    lib.GDALGetDescription.argtypes = [ctypes.c_void_p]
    lib.GDALAllRegister.restype = None
    lib.CPLCalloc.restype = ctypes.c_void_p
    lib.CPLCalloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
    lib.CPLStrdup.restype = ctypes.c_void_p
    lib.CPLStrdup.argtypes = [ctypes.c_char_p]
    lib.CPLHTTPSetFetchCallback.restype = None
    lib.CPLHTTPSetFetchCallback.argtypes = [_FETCH_CALLBACK, ctypes.c_void_p]
    lib.OSRSetPROJEnableNetwork.restype = None
    lib.OSRSetPROJEnableNetwork.argtypes = [ctypes.c_int]
    lib.CPLSetConfigOption.restype = None
    lib.CPLSetConfigOption.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    return lib


def registered_drivers(lib: ctypes.CDLL) -> list[str]:
    """Names of every registered GDAL driver, raster and vector."""
    return [lib.GDALGetDescription(lib.GDALGetDriver(i)).decode()
            for i in range(lib.GDALGetDriverCount())]


def refusing_fetch(lib: ctypes.CDLL) -> object:
    """An HTTP fetch callback that answers every request with an error, never connecting."""

    def refuse(_url: bytes, *_rest: object) -> int:
        result = lib.CPLCalloc(1, ctypes.sizeof(_HttpResult))
        fields = _HttpResult.from_address(result)
        fields.nStatus = 1
        # Allocated by GDAL, freed by GDAL (CPLHTTPDestroyResult).
        fields.pszErrBuf = lib.CPLStrdup(b"network access is disabled")
        return result

    return _FETCH_CALLBACK(refuse)


def apply() -> None:
    """Lock GDAL and PROJ down for this process (once; later calls do nothing)."""
    with _lock:
        if _applied:
            return
        import pyproj.network

        # pyproj's PROJ reads PROJ_NETWORK; GDAL's PROJ gets it from GDAL below.
        os.environ["PROJ_NETWORK"] = "OFF"
        pyproj.network.set_network_enabled(False)
        for lib, kept in gdal_libraries():
            lock_down(lib, kept)
        _applied.append(True)


def lock_down(lib: ctypes.CDLL, kept: frozenset[str]) -> None:
    """One copy of GDAL: only `kept` drivers, the safe options, no HTTP, no PROJ network."""
    lib.GDALAllRegister()  # rasterio registers its drivers lazily: all of them, first
    unwanted = [name for name in registered_drivers(lib) if name not in kept]
    # GDALAllRegister ends by removing the drivers GDAL_SKIP names (and would again if
    # anything registered the drivers a second time, as the option stays set).
    for key, value in {**CONFIG_OPTIONS, "GDAL_SKIP": ",".join(unwanted)}.items():
        lib.CPLSetConfigOption(key.encode(), None if value is None else value.encode())
    lib.GDALAllRegister()
    left = set(registered_drivers(lib)) - kept
    if left:
        raise RuntimeError(f"GDAL drivers could not be disabled: {sorted(left)}")
    callback = refusing_fetch(lib)
    _callbacks.append(callback)
    lib.CPLHTTPSetFetchCallback(callback, None)
    lib.OSRSetPROJEnableNetwork(0)


def limit_raster_cache(megabytes: int) -> None:
    """Cap the block cache of rasterio's GDAL (decompressed raster tiles, per process): its
    default, 5% of the machine's memory in every web process, is more than tiles need."""
    import rasterio.env

    rasterio.env.set_gdal_config("GDAL_CACHEMAX", int(megabytes) * 1024 * 1024)
