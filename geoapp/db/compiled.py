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
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Float, Numeric, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

# PostgreSQL's type OID of double precision.
FLOAT8_OID = 701


@dataclass(frozen=True)
class Plain:
    """A statement's SQL text for the driver, the values of its constant binds, its row type."""

    sql: str
    constants: Mapping[str, Any]
    row: type


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
    return Plain(sql=compiled.string, constants=constants,
                 row=namedtuple("Row", names, rename=True))  # type: ignore[misc]


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
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(plain.sql, values)
            rows = cursor.fetchall()
    except connection.dialect.loaded_dbapi.Error as error:
        lost = connection.dialect.is_disconnect(error, dbapi_connection, None)
        if lost:
            connection.invalidate(error)
        raise DBAPIError.instance(plain.sql, values, error, connection.dialect.loaded_dbapi.Error,
                                  connection_invalidated=lost,
                                  dialect=connection.dialect) from error
    make = plain.row._make
    return [make(row) for row in rows]
