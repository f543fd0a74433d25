"""Statements of the health check and of the per-request database budget."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select, text


def database_ping() -> Any:
    """The cheapest statement that proves the database answers."""
    return text("SELECT 1")


def transaction_statement_timeout(budget_ms: int) -> Select[Any]:
    """Set this transaction's statement timeout (SET LOCAL, as a function so the value binds)."""
    # is_local=true: the setting ends with the transaction, so a pooled connection
    # never carries one request's budget into the next.
    return select(func.set_config("statement_timeout", str(budget_ms), True))
