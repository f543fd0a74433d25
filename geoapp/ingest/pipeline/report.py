"""What an import did, feature by feature: the report every stage adds to."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from geoapp.errors import InvalidInput

# Refused features listed in the report (all of them are counted).
REJECTIONS_LISTED = 100


@dataclass
class ImportReport:
    """What an import read, wrote, repaired, skipped and refused."""

    source: str
    layer: str
    source_crs: str
    encoding: str | None
    features_read: int = 0
    imported: int = 0
    repaired: int = 0
    skipped_empty: int = 0
    rejected_count: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    bbox: list[float] | None = None
    zones: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    superseded_dataset_ids: list[int] = field(default_factory=list)
    # The other layers of an NFHL package: rows per layer, layers skipped (ingest/package.py).
    package: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return asdict(self)

    def reject(self, index: int, reason: str) -> None:
        """Count a refused feature and list the first ones."""
        self.rejected_count += 1
        if len(self.rejected) < REJECTIONS_LISTED:
            self.rejected.append({"index": index, "reason": reason})


class ImportRejected(InvalidInput):
    """Invalid features were found and repair was off: nothing is imported."""

    code = "invalid_geometries"

    def __init__(self, report: ImportReport) -> None:
        listed = "; ".join(f"feature {r['index']}: {r['reason']}" for r in report.rejected[:5])
        super().__init__(f"{report.rejected_count} feature(s) refused and repair=false, so "
                         f"nothing was imported: {listed}")
        self.report = report

