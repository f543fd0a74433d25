"""Configuration: defaults in code, overridden by the environment, then by test settings."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import time
from pathlib import Path
from typing import Any

DEFAULT_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:54329/floodmanager"

# Settings that can be overridden with an environment variable of the same name.
DEFAULTS: dict[str, Any] = {
    # Anonymous visitors may read maps and the API; writes always need an account.
    "GEOAPP_PUBLIC_READ": True,
    # Seconds to wait for PostgreSQL before /healthz and requests give up.
    "GEOAPP_DB_CONNECT_TIMEOUT": 5,
    # Hot statements (lookups, single features, pages) are prepared once per connection on
    # the server, which then skips their parsing and, for those whose generic plan is as good
    # as a custom one, their planning (geoapp/db/compiled.py). Turn off behind a
    # transaction-mode pooler (pgbouncer pool_mode=transaction), whose server connections
    # change between transactions.
    "GEOAPP_PREPARED_STATEMENTS": True,
    # Statement timeouts (ms), so one bad query cannot pin a worker (0: none). The first is
    # the connections' default (CLI, worker) and the budget of requests of no listed kind;
    # single reads (lookup, item, tile, page) get READ, batches, parcels, exports and pages
    # of more than GEOAPP_ITEMS_LARGE_PAGE features HEAVY (see geoapp/web/guards/request_db.py).
    "GEOAPP_STATEMENT_TIMEOUT_MS": 30000,
    "GEOAPP_STATEMENT_TIMEOUT_READ_MS": 5000,
    "GEOAPP_STATEMENT_TIMEOUT_HEAVY_MS": 60000,
    "GEOAPP_ITEMS_LARGE_PAGE": 1000,
    # The basemap under the zones (geoapp/web/basemap.py): empty or "none" for none (closed
    # networks; the map says so); a tile URL template with {z}, {x} and {y}, e.g.
    # https://tile.openstreetmap.org/{z}/{x}/{y}.png; or the path (absolute, or from the
    # instance folder) of a raster .mbtiles file or a raster or vector .pmtiles archive, which
    # the app serves itself. Its attribution (HTML); empty: the file's own, if it has one.
    "GEOAPP_BASEMAP_URL": "",
    "GEOAPP_BASEMAP_ATTRIBUTION": "",
    # Address search on the map and at /api/geocode: a Nominatim-compatible /search URL
    # (e.g. https://nominatim.openstreetmap.org/search). Empty: coordinates only (offline).
    "GEOAPP_GEOCODER_URL": "",
    "GEOAPP_GEOCODER_TIMEOUT_S": 5.0,
    # How far (metres) the point report looks for the nearest high-risk zone, and the most
    # a caller may ask for with `nearest_radius`.
    "GEOAPP_NEAREST_RADIUS_M": 5000.0,
    "GEOAPP_NEAREST_MAX_RADIUS_M": 50000.0,
    # Within this many metres of the SFHA boundary a determination is flagged
    # `near_sfha_boundary` and the report asks for a review. FEMA's base map standard for
    # FIRMs is a horizontal accuracy of 38 ft (11.6 m) at 95 % confidence (NSSDA), the
    # National Map Accuracy Standard of a 1:12,000 map (docs/determinations.md).
    "GEOAPP_BOUNDARY_TOLERANCE_M": 11.6,
    # Largest parcel for /api/lookup/area (larger ones get 413 naming the limit): vertices
    # (a surveyed lot has tens to hundreds) and area in km² (a large farm or campus fits).
    "GEOAPP_PARCEL_MAX_VERTICES": 10000,
    "GEOAPP_PARCEL_MAX_AREA_KM2": 100.0,
    # Rate limits per client of the expensive endpoints (geoapp/web/guards/ratelimit.py), in the
    # `limits` notation ("10/minute", "100/hour;10/minute"); over them: 429 + Retry-After.
    "GEOAPP_RATELIMIT_ENABLED": True,
    "GEOAPP_RATELIMIT_BATCH": "10/minute",
    "GEOAPP_RATELIMIT_PARCEL": "30/minute",
    "GEOAPP_RATELIMIT_EXPORT": "20/hour",
    "GEOAPP_RATELIMIT_LARGE_PAGE": "30/minute",
    # Where the counters live, shared by every web process: empty for this app's PostgreSQL
    # database; or redis://host:6379, memcached://host:11211 (with the redis or pymemcache
    # package installed), geoapp-postgresql://user@host:port/db, memory:// (one process only).
    "GEOAPP_RATELIMIT_STORAGE_URI": "",
    # Largest batch lookup, in points (larger batches get 413 naming this limit).
    "GEOAPP_BATCH_MAX_POINTS": 100000,
    # Database connections one large batch may use at once (a core each in PostgreSQL).
    "GEOAPP_BATCH_WORKERS": 2,
    # Vector tiles: size budget per tile (simplified further above it), per-process cache,
    # and how long clients may reuse a tile without asking.
    "GEOAPP_TILE_MAX_BYTES": 500000,
    "GEOAPP_TILE_CACHE_MB": 64,
    "GEOAPP_TILE_MAX_AGE_S": 60,
    # Items pages of the OGC API: default and largest page size.
    "GEOAPP_ITEMS_DEFAULT_LIMIT": 100,
    "GEOAPP_ITEMS_MAX_LIMIT": 10000,
    # numberMatched is counted exactly when the planner expects at most this many rows
    # (counting is most of a page's cost above that: 25 ms of 35 for 50,000 zones; the last
    # page gives the exact total anyway).
    "GEOAPP_EXACT_COUNT_LIMIT": 10000,
    # Deepest nesting of arrays/objects accepted in client JSON (bodies, field_map, CQL2-JSON);
    # deeper is refused with 400 invalid_json (a GeoJSON FeatureCollection is 8 deep).
    "GEOAPP_JSON_MAX_DEPTH": 64,
    # Largest request body, in megabytes.
    "GEOAPP_MAX_REQUEST_MB": 64,
    # Uploads for import: largest file, and what an archive may unpack to (size and ratio,
    # against zip bombs).
    "GEOAPP_UPLOAD_MAX_MB": 1024,
    "GEOAPP_UPLOAD_MAX_UNPACKED_MB": 8192,
    "GEOAPP_UPLOAD_MAX_RATIO": 200.0,
    # Uploads up to this size are imported during the request instead of by the worker.
    "GEOAPP_IMPORT_INLINE_MAX_KB": 512,
    # Where uploads wait for the worker (default: the instance folder's uploads/).
    "GEOAPP_UPLOAD_DIR": "",
    # Where imported rasters (DEMs, depth and water-surface grids) are kept as Cloud Optimized
    # GeoTIFFs (default: the instance folder's rasters/), and the most cells one may have.
    "GEOAPP_RASTER_DIR": "",
    "GEOAPP_RASTER_MAX_CELLS": 1_000_000_000,
    # Decompressed raster tiles each process keeps (GDAL's block cache of rasterio's copy).
    "GEOAPP_RASTER_CACHE_MB": 256,
    # Where the front-end packages installed from npm live (served under /vendor/).
    "GEOAPP_VENDOR_DIR": "",
    # Session and remember cookies only over HTTPS: "auto" (on unless DEBUG or TESTING),
    # "true" or "false". Plain-http servers (`make run` on 127.0.0.1) set "false".
    "GEOAPP_SECURE_COOKIES": "auto",
    # A sign-in without "keep me signed in" ends after this many idle minutes; one with it
    # (the remember cookie) after this many days, whatever the activity.
    "GEOAPP_SESSION_IDLE_MINUTES": 720,
    "GEOAPP_REMEMBER_DAYS": 14,
    # Sign-in throttling: this many failures for one account, or from one client address,
    # within the window lock further attempts out for the lockout period (429 + Retry-After).
    "GEOAPP_LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
    "GEOAPP_LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
    "GEOAPP_LOGIN_FAILURE_WINDOW_S": 900,
    "GEOAPP_LOGIN_LOCKOUT_S": 900,
    # The address users reach the service at, e.g. https://flood.example.org/prefix: absolute
    # links (OGC links, Location, TileJSON) are built from it, never from the Host header.
    "GEOAPP_PUBLIC_URL": "",
    # How many reverse proxies in front of the app to believe X-Forwarded-* headers from.
    "GEOAPP_TRUSTED_PROXIES": 0,
    # Host names accepted in the Host header (comma-separated; ".example.org" takes its
    # subdomains; "*" any). Empty: localhost only, unless GEOAPP_PUBLIC_URL is set.
    "GEOAPP_ALLOWED_HOSTS": "",
    # Origins allowed to read the public API from other sites' pages (comma-separated, "*"
    # for any, empty for none). Never for writes, never with credentials.
    "GEOAPP_CORS_ORIGINS": "*",
    # `flask serve` (Granian): where it listens, its processes, the requests each runs at once,
    # the connections each keeps open (more wait to be accepted), and how long a client may
    # take to send its headers (docs/security/serve.md).
    "GEOAPP_SERVE_HOST": "127.0.0.1",
    "GEOAPP_SERVE_PORT": 5000,
    "GEOAPP_SERVE_WORKERS": 2,
    "GEOAPP_SERVE_THREADS": 8,
    "GEOAPP_SERVE_MAX_CONNECTIONS": 1024,
    "GEOAPP_SERVE_HEADER_TIMEOUT_S": 10.0,
    # Exports: datasets of at most this many zones are written during the request; larger
    # ones by the worker (202 and a status URL), kept in GEOAPP_EXPORT_DIR (default: the
    # instance folder's exports/) and reused for GEOAPP_EXPORT_TTL_S seconds while the data
    # is unchanged. Zones are read and written this many at a time (memory per export).
    "GEOAPP_EXPORT_INLINE_MAX_ZONES": 5000,
    "GEOAPP_EXPORT_DIR": "",
    "GEOAPP_EXPORT_TTL_S": 3600.0,
    "GEOAPP_EXPORT_BATCH_ZONES": 2000,
    # Scratch space of exports being written and of workers (default: instance/work/); what
    # a killed process leaves there is removed by the next sweep of any worker.
    "GEOAPP_WORK_DIR": "",
    # Seconds between a worker's sweeps (retry jobs of dead workers, remove dead files), and
    # age after which an upload directory no queued import needs is removed.
    "GEOAPP_WORKER_SWEEP_S": 10.0,
    "GEOAPP_ORPHAN_UPLOAD_AGE_S": 3600.0,
}

# Secret keys seen in examples and shipped configurations; sessions signed with them can be
# forged by anyone who has read the same example.
PLACEHOLDER_SECRET_KEYS = {
    "change-me", "change-me-in-production", "changeme", "change_me", "secret", "secret-key",
    "secret_key", "secretkey", "dev", "development", "devkey", "dev-key", "test", "testing",
    "password", "default", "insecure", "your-secret-key", "supersecret", "super-secret",
    "flask-secret", "not-a-secret", "replace-me", "xxx",
}
PLACEHOLDER_MARKERS = ("changeme", "change-me", "change_me", "replace-me", "replaceme",
                       "placeholder", "your-secret", "insecure", "example")
MIN_SECRET_KEY_LENGTH = 32


def _coerce(raw: str, default: Any) -> Any:
    """Parse an environment string into the type of the default value."""
    if isinstance(default, bool):
        value = raw.strip().lower()
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"expected true/false, got {raw!r}")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def normalise_database_url(url: str) -> str:
    """Accept the URL spellings Heroku-style platforms and libpq users write."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://") :]
    return url


def _secret_key(instance_path: str) -> str:
    """SECRET_KEY, else the file SECRET_KEY_FILE names, else a key kept in the instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    if os.environ.get("SECRET_KEY_FILE"):
        # A key generated into a volume or a secrets mount (docker compose); never a default.
        key = Path(os.environ["SECRET_KEY_FILE"]).read_text().strip()
        if not key:
            raise RuntimeError("SECRET_KEY_FILE names an empty file")
        return key
    key_file = Path(instance_path) / "secret_key"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when several server workers start at once, exactly one writes the key.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip() or _wait_for_key(key_file)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return key_file.read_text().strip()


def weak_secret_key_reason(key: str) -> str | None:
    """Why ``key`` cannot protect sessions (too short, a known placeholder), or None if it can."""
    folded = key.strip().lower()
    if not folded:
        return "it is empty"
    if folded in PLACEHOLDER_SECRET_KEYS or any(m in folded for m in PLACEHOLDER_MARKERS):
        return "it is a well-known placeholder"
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"it is shorter than {MIN_SECRET_KEY_LENGTH} characters"
    if len(set(key)) < 8:
        return "it repeats too few distinct characters"
    return None


def check_secret_key(config: dict[str, Any]) -> None:
    """Refuse to build a production app whose SECRET_KEY would let anyone forge sessions.

    Debug and testing apps may use any key: they are not reachable by others.
    """
    if config.get("TESTING") or config.get("DEBUG") or _flask_debug_from_environment():
        return
    reason = weak_secret_key_reason(str(config.get("SECRET_KEY") or ""))
    if reason is not None:
        raise RuntimeError(
            f"SECRET_KEY is unsafe: {reason}. Set SECRET_KEY to a random value of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters (python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'), or unset it to use the key generated once "
            "in the instance folder."
        )


def _flask_debug_from_environment() -> bool:
    """FLASK_DEBUG as Flask reads it (``flask run --debug`` sets it too)."""
    value = os.environ.get("FLASK_DEBUG", "")
    return bool(value) and value.lower() not in {"0", "false", "no"}


def secure_cookies(config: dict[str, Any]) -> bool:
    """Whether cookies carry the Secure flag: GEOAPP_SECURE_COOKIES, "auto" meaning production."""
    setting = str(config["GEOAPP_SECURE_COOKIES"]).strip().lower()
    if setting == "auto":
        return not (config.get("TESTING") or config.get("DEBUG")
                    or _flask_debug_from_environment())
    try:
        return _coerce(setting, True)
    except ValueError as exc:
        raise RuntimeError(f"GEOAPP_SECURE_COOKIES: {exc} or auto") from exc


def _wait_for_key(key_file: Path) -> str:
    """Read a key file another process has created but may not have written yet."""
    for _ in range(50):
        time.sleep(0.02)
        key = key_file.read_text().strip()
        if key:
            return key
    raise RuntimeError(f"{key_file} is empty; delete it or set SECRET_KEY")


def engine_options(config: dict[str, Any]) -> dict[str, Any]:
    """SQLAlchemy engine options of the app's database, from the settings."""
    return {
        # Checkouts are checked without a round trip instead (geoapp/db/connections.py).
        "pool_pre_ping": False,
        "connect_args": {
            "connect_timeout": config["GEOAPP_DB_CONNECT_TIMEOUT"],
            "application_name": "floodmanager",
            # A connection's own statement timeout is the budget of single reads, the
            # commonest request, so those spend no statement on setting it; every other
            # transaction sets its budget locally (geoapp/web/guards/request_db.py).
            # JIT compiles for ~0.2 s when the planner's estimates are large (a batch of 100k
            # points), which is longer than such a query runs. Streamed pages use server-side
            # cursors and are always read to the end, so plan them for all rows, not the
            # first 10% (the default fraction picks slow "fast start" plans for bbox pages).
            "options": (
                f"-c statement_timeout={config['GEOAPP_STATEMENT_TIMEOUT_READ_MS']} -c jit=off "
                "-c cursor_tuple_fraction=1"
            ),
        },
    }


def build_config(instance_path: str, test_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the full configuration mapping for one application instance."""
    config: dict[str, Any] = {}
    for name, default in DEFAULTS.items():
        raw = os.environ.get(name)
        try:
            config[name] = default if raw is None else _coerce(raw, default)
        except ValueError as exc:
            raise RuntimeError(f"environment variable {name}: {exc}") from exc
    test_config = dict(test_config or {})
    database_url = test_config.pop("DATABASE_URL", None) or os.environ.get(
        "DATABASE_URL", DEFAULT_DATABASE_URL
    )
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(database_url)
    config["SECRET_KEY"] = test_config.pop("SECRET_KEY", None) or _secret_key(instance_path)
    config["MAX_CONTENT_LENGTH"] = config["GEOAPP_MAX_REQUEST_MB"] * 1024 * 1024
    config["WTF_CSRF_ENABLED"] = True
    # Flask-Compress: gzip (also while streaming) for JSON, GeoJSON, CSV and pages.
    config["COMPRESS_ALGORITHM"] = ["gzip", "deflate"]
    config["COMPRESS_ALGORITHM_STREAMING"] = ["gzip", "deflate"]
    config["COMPRESS_LEVEL"] = 5
    config["COMPRESS_MIN_SIZE"] = 1024
    config["COMPRESS_MIMETYPES"] = [
        "application/json",
        "application/vnd.mapbox-vector-tile",
        "application/geo+json",
        "application/schema+json",
        "application/vnd.oai.openapi+json",
        "text/csv",
        "text/html",
        "text/css",
        "application/javascript",
        "text/javascript",
        "application/vnd.mapbox-vector-tile",
    ]
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config.update(test_config)
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(config))
    check_secret_key(config)
    # The remember cookie carries a revocable sign-in secret (see geoapp/web/auth.py), with the
    # same protections as the session cookie.
    secure = secure_cookies(config)
    config.setdefault("SESSION_COOKIE_SECURE", secure)
    config.setdefault("REMEMBER_COOKIE_SECURE", secure)
    config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    config.setdefault("REMEMBER_COOKIE_DURATION",
                      dt.timedelta(days=config["GEOAPP_REMEMBER_DAYS"]))
    return config
