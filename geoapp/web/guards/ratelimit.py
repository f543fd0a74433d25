"""Rate limits of the expensive endpoints, per client, counted where every web process sees
the same numbers (PostgreSQL by default, see `ratelimit_storage`).

Every limit is declared in ONE table, `LIMITED_ENDPOINTS` (endpoint -> kind of request), and
each kind's limit is a setting (`KIND_SETTINGS`, e.g. GEOAPP_RATELIMIT_BATCH = "10/minute").
A limited request over its kind's limit gets 429 with Retry-After (rendered by `handlers`);
limited responses carry X-RateLimit-Limit/-Remaining/-Reset. Everything else, /healthz
included, is never limited.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial, wraps
from typing import Any

from flask import Flask, current_app, g, request
from flask_limiter import Limit, Limiter
from limits import parse

from geoapp.web.guards.request_kinds import is_large_page

# Endpoint -> kind of limited request. To limit another endpoint, add it here (with a new
# kind, also add its setting to KIND_SETTINGS and config.DEFAULTS).
LIMITED_ENDPOINTS: dict[str, str] = {
    "api.lookup_batch": "batch",
    "api.lookup_area": "parcel",
    "api.dataset_export": "export",
    # Only pages of more than GEOAPP_ITEMS_LARGE_PAGE features (see limited_kind).
    "api.items": "large_page",
}

# Kind -> (setting holding its limit, what the kind is called in messages).
KIND_SETTINGS: dict[str, tuple[str, str]] = {
    "batch": ("GEOAPP_RATELIMIT_BATCH", "batch lookups"),
    "parcel": ("GEOAPP_RATELIMIT_PARCEL", "parcel lookups"),
    "export": ("GEOAPP_RATELIMIT_EXPORT", "dataset exports"),
    "large_page": ("GEOAPP_RATELIMIT_LARGE_PAGE", "large pages of features"),
}

# Where counters live when GEOAPP_RATELIMIT_STORAGE_URI is empty: the app's own database.
DEFAULT_STORAGE_URI = "geoapp-postgresql://"


def limited_kind(endpoint: str | None, args: Mapping[str, str], config: Mapping[str, Any]
                 ) -> str | None:
    """The kind of limit a request counts against, or None when it is not limited."""
    kind = LIMITED_ENDPOINTS.get(endpoint or "")
    if kind == "large_page" and not is_large_page(args, config["GEOAPP_ITEMS_LARGE_PAGE"],
                                                  config):
        return None
    return kind


def client_key() -> str:
    """Whom a limit counts for: the client's address (behind trusted proxies, ProxyFix makes
    `remote_addr` the real client's)."""
    return request.remote_addr or "unknown"


def kind_limit(kind: str) -> Limit:
    """The Flask-Limiter limit of one kind: its own counter per client, read from config at
    each request, and exempt unless the request is of that kind."""
    setting, label = KIND_SETTINGS[kind]

    def value() -> str:
        return str(current_app.config[setting])

    def not_this_kind() -> bool:
        return limited_kind(request.endpoint, request.args, current_app.config) != kind

    def message() -> str:
        return (f"too many {label} from this client: at most {parse(value())} ({setting}); "
                "retry after the seconds in the Retry-After header")

    return Limit(limit_provider=value, key_function=client_key, scope=kind, shared=True,
                 exempt_when=not_this_kind, error_message=message)


def check_limit_settings(config: Mapping[str, Any]) -> None:
    """Refuse to start on a limit setting the library cannot read: Flask-Limiter would
    otherwise skip that limit at every request, leaving the endpoint unprotected."""
    for setting, _label in KIND_SETTINGS.values():
        try:
            parse(str(config[setting]))
        except ValueError:
            raise RuntimeError(
                f"{setting}={config[setting]!r} is not a rate limit; write it like "
                "'10/minute' or '20 per hour'") from None


def only_for_limited_requests(app: Flask, limiter: Limiter) -> None:
    """Run the limiter's request hooks only for requests of a limited kind.

    Most requests (lookups, features, tiles) are of none. Flask-Limiter's request filter
    still sets up its request context, resolves the endpoint's limits and, after the view,
    looks for headers to add: 45 µs of a lookup's 620 µs of Python. Its three hooks are
    wrapped instead, deciding once per request (kept in ``g``).
    """

    def is_limited() -> bool:
        if "rate_limited" not in g:
            g.rate_limited = limited_kind(request.endpoint, request.args,
                                          current_app.config) is not None
        return bool(g.rate_limited)

    def owned(hook: Any) -> bool:
        target = hook.func if isinstance(hook, partial) else hook
        owner = hook.args[0] if isinstance(hook, partial) else getattr(target, "__self__", None)
        return owner is limiter

    def gated(hook: Callable[..., Any], passes_through: bool) -> Callable[..., Any]:
        @wraps(hook)
        def run(*args: Any) -> Any:
            if is_limited():
                return hook(*args)
            return args[0] if passes_through else None  # an after-request hook's response

        return run

    for hooks, passes_through in ((app.before_request_funcs, False),
                                  (app.after_request_funcs, True),
                                  (app.teardown_request_funcs, False)):
        found = hooks.get(None, [])
        hooks[None] = [gated(hook, passes_through) if owned(hook) else hook for hook in found]
    wrapped = sum(owned(getattr(hook, "__wrapped__", None)) for hooks in (
        app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
        for hook in hooks.get(None, []))
    if limiter.enabled and wrapped != 3:
        # A Flask-Limiter that installs its hooks otherwise: limits would run everywhere,
        # or nowhere; refuse to start rather than guess. (Disabled, it installs none.)
        raise RuntimeError("Flask-Limiter's request hooks were not found where expected")


class RateLimits:
    """The rate-limit extension: created unbound, attached with `init_app`.

    Flask-Limiter keeps its storage and limits on the Limiter object, so one Limiter bound to
    two apps would count every request with the last app's storage; each app gets its own
    (kept in ``app.extensions["geoapp_rate_limits"]``), all of them counting in the same
    shared storage.
    """

    def init_app(self, app: Flask) -> None:
        """Build the app's limiter on its configured storage and install its hooks."""
        from geoapp.db.ratelimit_storage import SCHEME  # registers the storage scheme
        from geoapp.extensions import db

        check_limit_settings(app.config)
        uri = app.config["GEOAPP_RATELIMIT_STORAGE_URI"] or DEFAULT_STORAGE_URI
        options: dict[str, Any] = {}
        if uri == f"{SCHEME}://":
            with app.app_context():
                options["engine"] = db.engine
        limits: list[Limit | str | Callable[[], str]] = [kind_limit(kind) for kind in KIND_SETTINGS]
        limiter = Limiter(
            key_func=client_key,
            default_limits=limits,
            storage_uri=uri,
            storage_options=options,
            strategy="fixed-window",
            headers_enabled=True,
            # A storage failure lets the request through (logged): the limits protect the
            # database, and failing closed would turn its hiccup into an outage.
            swallow_errors=True,
            key_prefix="floodmanager",
            enabled=bool(app.config["GEOAPP_RATELIMIT_ENABLED"]),
        )
        limiter.init_app(app)
        only_for_limited_requests(app, limiter)
        app.extensions["geoapp_rate_limits"] = limiter
