"""How pooled connections are checked and lent: no statement is spent on either.

- **Liveness without a round trip.** SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` at every
  checkout, a whole round trip added to every request (a lookup's one query becomes two). A
  connection the server has dropped — backend terminated, server restarted, idle timeout — has
  a FATAL message or an end-of-file waiting on its socket, so a checkout instead polls the
  socket for readability with a zero timeout: readable, or already closed, means the
  connection is discarded and the pool opens another. An idle connection that is alive has
  nothing to read (this app never LISTENs). What neither check can see is a peer that vanished
  without a word; the statement then fails, and SQLAlchemy invalidates the pool as it would.
- **Reads outside a transaction.** psycopg2 opens a transaction with its own ``BEGIN`` round
  trip before the first statement, and the session ends with a ``ROLLBACK``. A request that
  only reads, statement by statement (a lookup, one feature, a tile), needs neither:
  ``read_without_transaction`` puts its connection in autocommit as the transaction begins,
  and the checkin hook puts it back, so the next borrower gets a transactional connection as
  usual. The flag is set on the DBAPI connection (no statement is sent either way);
  SQLAlchemy's own isolation-level
  option would send ``SET default_transaction_isolation`` when the connection next opens a
  transaction.
"""

from __future__ import annotations

import select
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session

from geoapp.db import compiled

# libpq's PQTRANS_IDLE: connected, no transaction open (psycopg2's TRANSACTION_STATUS_IDLE).
TRANSACTION_IDLE = 0


def was_dropped(dbapi_connection: Any) -> bool:
    """Whether the server has closed this idle connection (or told it why it will)."""
    if dbapi_connection.closed:
        return True
    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def refuse_dropped(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool checkout hook: a dropped connection is replaced before anyone uses it."""
    if was_dropped(dbapi_connection):
        # The pool invalidates this one and checks out (or opens) another.
        raise DisconnectionError("the server closed this pooled connection")


def restore_transactions(dbapi_connection: Any, _record: Any) -> None:
    """Pool checkin hook: a connection lent for autocommit reads goes back transactional."""
    if dbapi_connection is not None and not dbapi_connection.closed:
        dbapi_connection.autocommit = False


def install(engine: Engine, prepare: bool = False) -> None:
    """Attach the liveness check and the autocommit reset to an engine's pool (once), and say
    whether hot statements are prepared on its server (``compiled.PREPARE_OPTION``)."""
    engine.update_execution_options(**{compiled.PREPARE_OPTION: prepare})
    if not event.contains(engine, "checkout", refuse_dropped):
        event.listen(engine, "checkout", refuse_dropped)
        event.listen(engine, "checkin", restore_transactions)


def read_without_transaction(connection: Connection) -> bool:
    """Run a connection's statements each on its own (autocommit), from a transaction's start.

    Called as its transaction begins, before any statement: psycopg2 has sent no BEGIN yet,
    and now sends none; the session's ROLLBACK at the end costs nothing either. Returns whether
    it was done (not when the connection already has a transaction open on the server). Every
    statement then sees the data committed when it starts: for callers that need no common
    snapshot across statements, and never write.
    """
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is None or dbapi_connection.info.transaction_status != TRANSACTION_IDLE:
        return False
    dbapi_connection.autocommit = True
    return True


# What read functions take: the ORM session of a unit of work, or a connection lent for reads.
Reads = Session | Connection


def connection_of(reads: Reads) -> Connection:
    """The connection statements run on: a session's (opened on first use), or the one given."""
    return reads if isinstance(reads, Connection) else reads.connection()
