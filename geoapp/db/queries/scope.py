"""Which datasets answer a query: the active ones, or those in force on a date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, or_, select

from geoapp.db.models import Dataset
from geoapp.db.vocabulary import DatasetStatus


@dataclass(frozen=True)
class Scope:
    """Which datasets answer: the active ones, or those in force on a date; maybe only one."""

    as_of: dt.date | None = None
    # A dataset id, or a name (all versions of a map share it; `as_of` picks among them).
    dataset: int | str | None = None


# The default scope: every dataset that is ready, as of today.
ACTIVE = Scope()


def dataset_is_active() -> ColumnElement[bool]:
    """Datasets that answer queries: fully imported and not retired."""
    return Dataset.status == DatasetStatus.READY


def dataset_in_scope(scope: Scope) -> ColumnElement[bool]:
    """Datasets answering under a scope; `as_of` also admits versions since superseded."""
    if scope.as_of is None:
        clause = dataset_is_active()
    else:
        clause = and_(
            Dataset.status.in_((DatasetStatus.READY, DatasetStatus.RETIRED)),
            or_(Dataset.effective_date.is_(None), Dataset.effective_date <= scope.as_of),
            or_(Dataset.superseded_on.is_(None), Dataset.superseded_on > scope.as_of),
        )
    if isinstance(scope.dataset, int):
        clause = and_(clause, Dataset.id == scope.dataset)
    elif isinstance(scope.dataset, str):
        clause = and_(clause, Dataset.name == scope.dataset)
    return clause


def dataset_exists(reference: int | str) -> Select[tuple[int]]:
    """Any dataset (of any status) with this id or name."""
    column = Dataset.id if isinstance(reference, int) else Dataset.name
    return select(Dataset.id).where(column == reference).limit(1)
