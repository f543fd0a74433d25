"""How a web request uses the database: a statement budget fitting its kind, a streamed body
that is visibly cut when the database fails mid-way, and a session end that never turns a
lost connection into a 500.

A connection's own statement timeout is the read budget (``config.engine_options``), so
single reads spend no statement on it. Any other budget is applied with
``set_config('statement_timeout', ..., true)`` (SET LOCAL) at the start of every transaction
opened while a request of that kind is handled, on any connection of the app's engine: the
view's, a parallel batch's extra connections (which run in a copy of the request's context),
and the fresh session a streamed body reads from (Flask ends the app context, and with it the
view's session, before the body is sent). It is scoped to the transaction, so it never leaks
into the pool. CLI commands and the worker run outside requests and get
GEOAPP_STATEMENT_TIMEOUT_MS the same way.

Requests that only read, one statement after another (``AUTOCOMMIT_READS``), run without a
transaction: no BEGIN, no ROLLBACK (``geoapp/db/connections.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from sqlalchemy import Connection, event
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from geoapp.db import connections
from geoapp.db.queries import health as health_sql
from geoapp.extensions import db
from geoapp.ogc.features import reads_whole
from geoapp.web.guards.request_kinds import is_large_page, page_size

log = logging.getLogger(__name__)

# Request kinds and the setting that gives each its statement timeout (milliseconds).
READ = "read"
HEAVY = "heavy"
DEFAULT = "default"
BUDGET_SETTINGS = {
    READ: "GEOAPP_STATEMENT_TIMEOUT_READ_MS",
    HEAVY: "GEOAPP_STATEMENT_TIMEOUT_HEAVY_MS",
    DEFAULT: "GEOAPP_STATEMENT_TIMEOUT_MS",
}

# Endpoint -> kind. Single reads answer in milliseconds, so a few seconds is already
# pathological; batches, parcels, exports and large pages may legitimately take longer.
# Endpoints not listed (writes, imports, pages) get the default.
ENDPOINT_KINDS = {
    "api.lookup": READ,
    "api.item": READ,
    "api.items": READ,  # HEAVY above GEOAPP_ITEMS_LARGE_PAGE features, see request_kind
    "api.tile": READ,
    "api.tilejson": READ,
    "api.tilesets": READ,
    "api.collection": READ,
    "api.collections": READ,
    "api.queryables": READ,
    "api.landing": READ,
    "api.list_datasets": READ,
    "api.dataset_status": READ,
    "api.export_status": READ,
    "api.export_download": READ,
    "api.geocode": READ,
    "health.healthz": READ,
    "maps.index": READ,
    "api.lookup_batch": HEAVY,
    "api.lookup_area": HEAVY,
    "api.dataset_export": HEAVY,
}

# Read endpoints whose statements need no common snapshot and that never write (a bearer
# token's last use is one UPDATE, atomic on its own): they run in autocommit. Items pages too
# when they are read without a server-side cursor (which lives in a transaction), see
# `reads_without_transaction`. Under READ COMMITTED every statement takes its own snapshot
# in a transaction as well, so autocommit changes what a request sees in no way.
AUTOCOMMIT_READS = frozenset({
    "api.lookup", "api.item", "api.tile", "api.tilejson", "api.tilesets", "api.collection",
    "api.collections", "api.queryables", "api.landing", "health.healthz",
})

# PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout (or a cancel request).
QUERY_CANCELED = "57014"


def request_kind(endpoint: str | None, args: Mapping[str, str], config: Mapping[str, Any]
                 ) -> str:
    """The kind of a request, which decides its statement budget."""
    kind = ENDPOINT_KINDS.get(endpoint or "", DEFAULT)
    if endpoint == "api.items" and is_large_page(args, config["GEOAPP_ITEMS_LARGE_PAGE"],
                                                 config):
        return HEAVY
    return kind


def reads_without_transaction(endpoint: str | None, args: Mapping[str, str],
                              config: Mapping[str, Any]) -> bool:
    """Whether a request's statements run in autocommit (see AUTOCOMMIT_READS)."""
    if endpoint == "api.items":
        # The page's own rule (ItemsPage.reads_whole), on the size it will be served.
        size = page_size(args, config)
        return size is None or reads_whole(size)
    return endpoint in AUTOCOMMIT_READS


def budget_ms(kind: str, config: Mapping[str, Any]) -> int:
    """The statement timeout (ms) of a request kind; 0 means none."""
    return int(config[BUDGET_SETTINGS[kind]])


def transaction_start(config: Mapping[str, Any]) -> Callable[[Connection], None]:
    """The hook run as every transaction begins: the budget, unless the connection has it;
    no transaction at all for the reads of ``AUTOCOMMIT_READS``."""
    connection_default = budget_ms(READ, config)
    outside_requests = budget_ms(DEFAULT, config)

    def begin(connection: Connection) -> None:
        if not has_request_context():
            budget = outside_requests
        else:
            budget = g.get("statement_budget_ms", connection_default)
            if budget == connection_default and reads_without_transaction(
                    request.endpoint, request.args, config):
                connections.read_without_transaction(connection)
        if budget != connection_default:
            connection.execute(health_sql.transaction_statement_timeout(budget))

    return begin


def is_query_timeout(error: BaseException) -> bool:
    """Whether a database error is a statement cancelled for running too long."""
    original = getattr(error, "orig", None)
    code = getattr(original, "pgcode", None) or getattr(original, "sqlstate", None)
    return code == QUERY_CANCELED


def watched_stream(chunks: Iterable[Any], path: str) -> Iterator[Any]:
    """A streamed body that logs why it was cut when the database fails mid-way.

    The error is raised again so that the server aborts the response: a chunked body then
    lacks its last chunk, and clients see a truncated transfer rather than a complete 200.
    """
    try:
        yield from chunks
    except DBAPIError as error:
        reason = "query_timeout" if is_query_timeout(error) else "database_error"
        log.error("response body of %s cut after it started (%s): %s", path, reason,
                  getattr(error, "orig", error))
        raise
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def single_reads() -> connections.Reads:
    """Where a request that only reads, statement by statement (``AUTOCOMMIT_READS``), runs
    them: a pooled connection lent in autocommit for the request and given back at its end.

    Without the ORM session around it: opening and closing the session's transaction was
    about 100 µs of a single feature's 690 µs of Python. A session bound to one connection
    (an outer transaction, as the tests run the app in) is used as it is, so that its reads
    see that transaction's data.
    """
    if db.session.session_factory.kw.get("bind") is not None:
        return db.session
    connection = g.get("single_reads")
    if connection is None:
        connection = db.engine.connect()
        connections.read_without_transaction(connection)
        g.single_reads = connection
    return connection


def log_lost_connection(error: SQLAlchemyError) -> None:
    """Note a connection found lost as a request ended (the response already stands)."""
    log.warning("database connection lost while ending a request: %s",
                getattr(error, "orig", error))


def end_session(_error: BaseException | None = None) -> None:
    """Give back the request's connections; a connection lost by now costs nothing more.

    Whatever the request committed is committed; the rollback that fails here had nothing
    left to undo (a dead connection's transaction is gone with it), so the response stands.
    """
    lent = g.pop("single_reads", None)
    if lent is not None:
        try:
            lent.close()
        except SQLAlchemyError as error:
            log_lost_connection(error)
    if not db.session.registry.has():
        return  # the request never opened its session
    try:
        db.session.remove()
    except SQLAlchemyError as error:
        log_lost_connection(error)
        # The session's connection was invalidated by the failed rollback; forget the
        # session so the next request starts from a fresh connection of the pool.
        db.session.registry.clear()


def init_app(app: Flask) -> None:
    """Install the budgets, the stream watch and the session end on an app (after db)."""

    @app.before_request
    def choose_statement_budget() -> None:
        kind = request_kind(request.endpoint, request.args, app.config)
        g.statement_budget_ms = budget_ms(kind, app.config)

    @app.after_request
    def watch_streamed_body(response: Response) -> Response:
        # Files (send_file) pass through untouched, so servers can still sendfile() them.
        if response.is_streamed and not response.direct_passthrough:
            response.response = watched_stream(response.response, request.path)
        return response

    # Teardown functions run last-registered first: this one ends the session before
    # Flask-SQLAlchemy's own (which then finds nothing left to remove).
    app.teardown_appcontext(end_session)
    with app.app_context():
        event.listen(db.engine, "begin", transaction_start(app.config))

