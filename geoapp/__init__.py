"""FloodManager: flood zones on PostGIS, served as a lookup API and interactive maps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

PACKAGE_DIR = Path(__file__).resolve().parent
# Where templates/, static/, migrations/ and data/sample/ are: the top of a checkout (also for an
# editable install), or the copy that setup.py puts inside a built wheel.
_BUNDLED = PACKAGE_DIR / "_resources"
INSTALLED = (_BUNDLED / "templates").is_dir()
PROJECT_DIR = _BUNDLED if INSTALLED else PACKAGE_DIR.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory: configuration, extensions, blueprints and CLI commands."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_DIR / "templates"),
        static_folder=str(PROJECT_DIR / "static"),
        # Installed, Flask's own default (<prefix>/var/geoapp-instance): never site-packages.
        instance_path=None if INSTALLED else str(PROJECT_DIR / "instance"),
    )

    from geoapp.ingest import gdal_safety

    # Before anything can open a file: only the GDAL drivers we need, no network, no VRT.
    gdal_safety.apply()

    from geoapp.config import build_config

    app.config.from_mapping(build_config(app.instance_path, test_config))
    gdal_safety.limit_raster_cache(app.config["GEOAPP_RASTER_CACHE_MB"])
    if not app.config["GEOAPP_VENDOR_DIR"]:
        app.config["GEOAPP_VENDOR_DIR"] = str(PROJECT_DIR / "node_modules")

    from geoapp.web.http import BoundedIntConverter
    from geoapp.web.json_provider import ClientJSONProvider

    app.json = ClientJSONProvider(app)  # client JSON past a nesting depth is a 400
    app.url_map.converters["int"] = BoundedIntConverter  # before any route is added

    from geoapp.extensions import compress, csrf, db, login_manager, migrate, rate_limits

    db.init_app(app)
    from geoapp.db import connections

    with app.app_context():
        # Pooled connections checked without a round trip; hot statements prepared.
        connections.install(db.engine, prepare=app.config["GEOAPP_PREPARED_STATEMENTS"])
    from geoapp.web.guards import request_db

    request_db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_DIR / "migrations"), compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    compress.init_app(app)
    rate_limits.init_app(app)
    from geoapp.ingest import jobs

    jobs.queue.init_app(app)

    from geoapp.web import api, assets, auth, basemap
    from geoapp.web.pages import catalog, health, maps

    assets.warn_if_missing(app)

    from geoapp.db.vocabulary import DatasetStatus, Role

    # Templates compare statuses and roles with the same names as the code.
    app.jinja_env.globals.update(DatasetStatus=DatasetStatus, Role=Role)

    app.register_blueprint(health.bp)
    app.register_blueprint(assets.bp)
    app.register_blueprint(basemap.bp)  # decides the basemap (and warns when there is none)
    app.register_blueprint(auth.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(maps.bp)
    app.register_blueprint(catalog.bp)
    # CSRF is checked by our own hook so that bearer-token API clients are not asked for it.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.before_request(auth.csrf_check)

    from geoapp.web.handlers import (
        register_error_handlers,
        register_input_guard,
        register_read_guard,
    )

    register_error_handlers(app)
    register_read_guard(app)
    register_input_guard(app)

    from geoapp.web.guards import cookie_session
    from geoapp.web.guards.cors import register_cors
    from geoapp.web.guards.public_url import install_public_address
    from geoapp.web.guards.security_headers import register_security_headers

    cookie_session.install(app)
    register_security_headers(app)
    register_cors(app)
    install_public_address(app)

    from geoapp.web.pages.admin import register_audit

    register_audit(app)

    from geoapp.cli import register_cli

    register_cli(app)
    return app
