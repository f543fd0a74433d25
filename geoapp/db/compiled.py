"""Hot statements compiled once and run straight on the driver's cursor.

A point lookup spends about a fifth of its Python time in SQLAlchemy's execution layer
between ``Connection.execute`` and psycopg2: the compiled-cache lookup, the parameter
processing, the execution context and the Row objects (py-spy, ``bench/README.md``). For a
few statements that run on every request of a hot endpoint, and whose parameters and columns
need no conversion by SQLAlchemy (floats, integers, text, dates, booleans: psycopg2's own
types), that layer does nothing useful. ``run`` compiles such a statement once per dialect,
then hands the SQL text and the bound values to the cursor and returns plain named tuples.

The statement is still built by the clause builders of ``geoapp/db/queries``, and the
connection is still the SQLAlchemy connection of the session (its ``begin`` hooks have run:
statement budget, autocommit reads). Driver errors become SQLAlchemy's ``DBAPIError`` types,
and a lost connection is invalidated, as ``Connection.execute`` would do, so the error
handlers and the pool see the same thing either way. A statement that does need SQLAlchemy's
processing (expanding ``IN`` lists, a type with a bind or result processor) is run through
``Connection.execute``.

**Prepared on the server.** Planning such a statement costs PostgreSQL more than running it:
a point lookup plans for 1.4–1.9 ms and runs for 0.4–0.7 ms (``EXPLAIN (ANALYZE, SUMMARY)``
on both bench maps). On an engine with the ``PREPARE_OPTION`` execution option (the app's,
from ``GEOAPP_PREPARED_STATEMENTS``), a statement is sent once per connection as ``PREPARE``
with typed ``$n`` parameters, and from then on as ``EXECUTE name(values)``: PostgreSQL parses
it once. Whether it is also planned once is the statement's choice (``generic_plan``):
PostgreSQL's own rule keeps planning each execution for its values when the generic plan's
estimate is dearer than theirs, which it always is for the lookup (a point's selectivity is
unknown to a generic plan), although that plan is the same index walk and runs in 0.5 ms
instead of 1.2 ms. Pages whose LIMIT and OFFSET steer the plan keep PostgreSQL's rule: a
generic plan, planned for a tenth of the table, sorts what an index would walk (a first page
of 8 ms took 21 ms). A statement that asks for it is sent as ``SET LOCAL plan_cache_mode =
force_generic_plan; EXECUTE ...``: one message, whose statements PostgreSQL runs as one
implicit transaction, so the setting ends with it and never reaches another statement of the
connection (a trigger's PL/pgSQL plans, say).

The names are a digest of the SQL, and what was prepared on a connection lives in its pool
record's ``info``, which SQLAlchemy clears with the DBAPI connection. A ``PREPARE`` is only
sent in autocommit, so that a refused one never aborts a transaction, and so is the plan
setting (inside a transaction, SET LOCAL would last until its end); a statement PostgreSQL
refuses to prepare runs as text from then on. A prepared statement survives ROLLBACK.
Transaction-mode poolers (pgbouncer) hand each transaction another server connection, which
does not know the names: turn the setting off behind them.
"""

from __future__ import annotations

import hashlib
import re
from collections import namedtuple
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    Select,
    String,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.type_api import TypeEngine

# PostgreSQL's type OID of double precision.
FLOAT8_OID = 701
# The engine execution option that lets `run` prepare statements on the server.
PREPARE_OPTION = "geoapp_prepare"
# Where a connection's pool record keeps the names prepared on it.
PREPARED_NAMES = "geoapp_prepared"
# psycopg2's placeholders (pyformat) and its escaped percent sign.
PLACEHOLDER = re.compile(r"%%|%\(([^)]+)\)s")
# The statement execution option asking for one plan for all values (see the module's text).
GENERIC_PLAN_OPTION = "geoapp_generic_plan"
# Sent before the EXECUTE of such a statement, in the same message (see the module's text).
GENERIC_PLAN_PREFIX = "SET LOCAL plan_cache_mode = force_generic_plan; "
# SQLSTATEs of an EXECUTE whose prepared statement is gone (DEALLOCATE ALL, DISCARD ALL, a
# pooler's other connection) or was planned for columns a migration has since changed.
PREPARED_GONE = frozenset({"26000", "0A000"})
# Parameter types declared to PREPARE, by SQLAlchemy type (first match; Float before
# Numeric, its base; BigInteger before Integer). Integer parameters are PostgreSQL's integer,
# as functions such as ST_SetSRID take: values from clients are bounded to it before they
# reach a statement (geoapp/inputs/params.py). Anything else is left to PostgreSQL to infer
# ("unknown").
PARAMETER_TYPES: tuple[tuple[type[TypeEngine[Any]], str], ...] = (
    (Boolean, "boolean"),
    (BigInteger, "bigint"),
    (Integer, "integer"),
    (Float, "double precision"),
    (Numeric, "numeric"),
    (DateTime, "timestamp"),
    (Date, "date"),
    (String, "text"),
)


@dataclass(frozen=True)
class Plain:
    """A statement's SQL text for the driver, the values of its constant binds, its row type."""

    sql: str
    constants: Mapping[str, Any]
    row: type
    prepared: Prepared | None = None
    # Whether its prepared form runs with one plan for all values.
    generic_plan: bool = False


@dataclass(frozen=True)
class Prepared:
    """A statement's server-side prepared form: its name, its PREPARE, its EXECUTE."""

    name: str
    prepare_sql: str
    execute_sql: str


def parameter_type(type_: TypeEngine[Any]) -> str:
    """The PostgreSQL type a parameter of this SQLAlchemy type is declared with."""
    for sqlalchemy_type, pg_type in PARAMETER_TYPES:
        if isinstance(type_, sqlalchemy_type):
            if pg_type == "timestamp" and getattr(type_, "timezone", False):
                return "timestamptz"
            return pg_type
    return "unknown"


def prepared_form(sql: str, bind_types: Mapping[str, TypeEngine[Any]]) -> Prepared | None:
    """PREPARE and EXECUTE texts of a psycopg2 statement (None if a placeholder is unknown)."""
    numbers: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"  # %% is psycopg2's escape; PREPARE's text is sent as it is
        if name not in numbers:
            numbers[name] = len(numbers) + 1
        return f"${numbers[name]}"

    body = PLACEHOLDER.sub(number, sql)
    if any(name not in bind_types for name in numbers):
        return None
    name = "geoapp_" + hashlib.sha1(sql.encode()).hexdigest()[:20]
    types = ", ".join(parameter_type(bind_types[parameter]) for parameter in numbers)
    arguments = ", ".join(f"%({parameter})s" for parameter in numbers)
    if not numbers:
        return Prepared(name, f"PREPARE {name} AS {body}", f"EXECUTE {name}")
    return Prepared(name, f"PREPARE {name}({types}) AS {body}", f"EXECUTE {name}({arguments})")


@lru_cache(maxsize=256)
def plain_form(statement: Select[Any], dialect: Dialect) -> Plain | None:
    """The driver-ready form of a statement, or None if it needs SQLAlchemy's processing."""
    compiled = statement.compile(dialect=dialect)
    if compiled.positional or compiled.literal_execute_params or compiled.post_compile_params:
        return None
    if compiled._bind_processors:
        return None
    names = []
    for key, _name, _objects, type_ in compiled._result_columns:
        # psycopg2's numeric processing depends on the column's type code: the builders'
        # Float columns and expressions are double precision, which arrive as floats.
        type_code = FLOAT8_OID if isinstance(type_, (Float, Numeric)) else None
        if type_._cached_result_processor(dialect, type_code) is not None:
            return None
        names.append(key)
    # The values the statement carries itself; the caller binds the others.
    constants = {name: bind.effective_value for bind, name in compiled.bind_names.items()
                 if not bind.required}
    bind_types = {name: bind.type for bind, name in compiled.bind_names.items()}
    return Plain(sql=compiled.string, constants=constants,
                 row=namedtuple("Row", names, rename=True),  # type: ignore[misc]
                 prepared=prepared_form(compiled.string, bind_types),
                 generic_plan=bool(statement.get_execution_options().get(GENERIC_PLAN_OPTION)))


def generic_plan(statement: Select[Any]) -> Select[Any]:
    """The statement, asking to be planned once for all values when it is prepared.

    For statements whose plan does not depend on their values (an index walk around a point,
    one row by its key); never for pages whose LIMIT and OFFSET steer the plan.
    """
    return statement.execution_options(**{GENERIC_PLAN_OPTION: True})


# Names PostgreSQL refused to PREPARE (a parameter whose type it cannot infer, say): those
# statements are run as text from then on.
REFUSED: set[str] = set()
# The SQLSTATE class of such refusals: syntax error or access rule violation (42P18
# indeterminate datatype, 42883 undefined function, 42804 datatype mismatch, ...).
REFUSAL_CLASS = "42"


def run(connection: Connection, statement: Select[Any], parameters: Mapping[str, Any]
        ) -> Sequence[Any]:
    """All rows of a statement as named tuples.

    Only for statements built once (behind an lru_cache, say): the compiled form is kept per
    statement object, so one built per request would never be found again.
    """
    plain = plain_form(statement, connection.dialect)
    if plain is None:
        return connection.execute(statement, dict(parameters)).all()
    values = {**plain.constants, **parameters}
    dbapi_connection = connection.connection.dbapi_connection
    sql = plain.sql
    try:
        with dbapi_connection.cursor() as cursor:
            if plain.prepared is not None and prepares(connection):
                sql = prepared_text(connection, cursor, plain)
            try:
                cursor.execute(sql, values)
            except connection.dialect.loaded_dbapi.Error as error:
                if sql == plain.sql or not forget_prepared(connection, error):
                    raise
                # Gone from this connection: its names are forgotten, the text runs instead.
                sql = plain.sql
                cursor.execute(sql, values)
            rows = cursor.fetchall()
    except connection.dialect.loaded_dbapi.Error as error:
        lost = connection.dialect.is_disconnect(error, dbapi_connection, None)
        if lost:
            connection.invalidate(error)
        raise DBAPIError.instance(sql, values, error, connection.dialect.loaded_dbapi.Error,
                                  connection_invalidated=lost,
                                  dialect=connection.dialect) from error
    make = plain.row._make
    return [make(row) for row in rows]


def prepares(connection: Connection) -> bool:
    """Whether statements are prepared on this connection's server (the engine's option)."""
    return bool(connection.get_execution_options().get(PREPARE_OPTION, False))


def prepared_names(connection: Connection) -> set[str]:
    """The statements prepared on this DBAPI connection (forgotten with it)."""
    return connection.connection.info.setdefault(PREPARED_NAMES, set())


def prepared_text(connection: Connection, cursor: Any, plain: Plain) -> str:
    """The text to send for a statement: its EXECUTE once it is prepared here (with the plan
    setting it asks for), else its SQL.

    Prepares the statement first, and sets the plan, only in autocommit: a PREPARE refused
    inside a transaction would abort it, and a SET LOCAL there would outlive the statement.
    """
    prepared = plain.prepared
    assert prepared is not None
    autocommit = connection.connection.dbapi_connection.autocommit
    names = prepared_names(connection)
    if prepared.name not in names:
        if prepared.name in REFUSED or not autocommit:
            return plain.sql
        try:
            cursor.execute(prepared.prepare_sql)
        except connection.dialect.loaded_dbapi.Error as error:
            if not (getattr(error, "pgcode", None) or "").startswith(REFUSAL_CLASS):
                # Not the statement: a lock held past the budget, a lost connection. The text
                # would meet the same; the error is the request's.
                raise
            REFUSED.add(prepared.name)
            return plain.sql
        names.add(prepared.name)
    if plain.generic_plan and autocommit:
        return GENERIC_PLAN_PREFIX + prepared.execute_sql
    return prepared.execute_sql


def forget_prepared(connection: Connection, error: Exception) -> bool:
    """After a failed EXECUTE: whether it failed for want of its prepared statement, in
    which case this connection's names are forgotten (its statements deallocated) and the
    text may run."""
    if getattr(error, "pgcode", None) not in PREPARED_GONE:
        return False
    if not connection.connection.dbapi_connection.autocommit:
        return False  # the transaction is aborted; the caller's error handling takes over
    prepared_names(connection).clear()
    with connection.connection.dbapi_connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    return True
