"""Configuration: defaults in code, overridden by the environment, then by test settings."""

from __future__ import annotations

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
    # Statement timeout (ms) for request queries, so one bad query cannot pin a worker.
    "GEOAPP_STATEMENT_TIMEOUT_MS": 30000,
    # Basemap tiles under the zones; empty string for no basemap (air-gapped networks).
    "GEOAPP_BASEMAP_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    "GEOAPP_BASEMAP_ATTRIBUTION": "&copy; OpenStreetMap contributors",
    # Address search on the map and at /api/geocode: a Nominatim-compatible /search URL
    # (e.g. https://nominatim.openstreetmap.org/search). Empty: coordinates only (offline).
    "GEOAPP_GEOCODER_URL": "",
    "GEOAPP_GEOCODER_TIMEOUT_S": 5.0,
    # How far (metres) the point report looks for the nearest high-risk zone, and the most
    # a caller may ask for with `nearest_radius`.
    "GEOAPP_NEAREST_RADIUS_M": 5000.0,
    "GEOAPP_NEAREST_MAX_RADIUS_M": 50000.0,
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
    # numberMatched is counted exactly when the planner expects at most this many rows.
    "GEOAPP_EXACT_COUNT_LIMIT": 100000,
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
    # Where the front-end packages installed from npm live (served under /vendor/).
    "GEOAPP_VENDOR_DIR": "",
}


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
    """SECRET_KEY from the environment, else one generated once and kept in the instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
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


def _wait_for_key(key_file: Path) -> str:
    """Read a key file another process has created but may not have written yet."""
    for _ in range(50):
        time.sleep(0.02)
        key = key_file.read_text().strip()
        if key:
            return key
    raise RuntimeError(f"{key_file} is empty; delete it or set SECRET_KEY")


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
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "pool_pre_ping": True,
        "connect_args": {
            "connect_timeout": config["GEOAPP_DB_CONNECT_TIMEOUT"],
            "application_name": "floodmanager",
            # JIT compiles for ~0.2 s when the planner's estimates are large (a batch of 100k
            # points), which is longer than such a query runs. Streamed pages use server-side
            # cursors and are always read to the end, so plan them for all rows, not the
            # first 10% (the default fraction picks slow "fast start" plans for bbox pages).
            "options": (
                f"-c statement_timeout={config['GEOAPP_STATEMENT_TIMEOUT_MS']} -c jit=off "
                "-c cursor_tuple_fraction=1"
            ),
        },
    }
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
    config["JSON_SORT_KEYS"] = False
    config.update(test_config)
    return config
