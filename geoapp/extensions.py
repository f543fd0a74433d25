"""Flask extensions, created unbound and attached to an app in create_app()."""

from flask import Response, request
from flask_compress import Compress
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from geoapp.db.models import Base
from geoapp.web.guards.ratelimit import RateLimits


class FileSafeCompress(Compress):
    """Flask-Compress, except for file downloads.

    Compressing a file on the fly drops its Content-Length and breaks Range requests (a 206
    body would be gzip of a slice), so export downloads are sent as stored.
    """

    uncompressed_endpoints = frozenset({"api.dataset_export", "api.export_download"})

    def after_request(self, response: Response | None) -> Response:
        if response is not None and request.endpoint in self.uncompressed_endpoints:
            return response
        return super().after_request(response)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
compress = FileSafeCompress()
rate_limits = RateLimits()
