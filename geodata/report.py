"""What a reader found: every row accounted for."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding about one row (or the whole file when ``row`` is None).

    ``row`` is the row number a person sees in the file: for delimited text and
    spreadsheets the header is row 1 and the first record row 2; for vector
    files (GeoJSON, GeoPackage, Shapefile) the first feature is row 1.
    ``error`` rows are rejected; ``warning`` rows are kept.
    """

    row: int | None
    column: str | None
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else "file"
        col = f" [{self.column}]" if self.column else ""
        return f"{where}{col}: {self.message}"

    def to_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message, "severity": self.severity}


@dataclass
class LoadReport:
    """Accounting for one read: ``rows_read == rows_loaded + rows_rejected`` always."""

    path: str
    format: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def add(self, row: int | None, column: str | None, message: str, severity: Severity = "error") -> None:
        self.problems.append(Problem(None if row is None else int(row), column, message, severity))

    def check(self) -> None:
        if self.rows_read != self.rows_loaded + self.rows_rejected:
            raise AssertionError(
                f"{self.path}: accounting broken: read {self.rows_read} != "
                f"loaded {self.rows_loaded} + rejected {self.rows_rejected}"
            )

    def to_text(self) -> str:
        """The report as plain text, one problem a line (for saving and sending back)."""
        lines = [
            f"file: {self.path}",
            f"format: {self.format}",
            f"rows read: {self.rows_read}, loaded: {self.rows_loaded}, rejected: {self.rows_rejected}",
        ]
        lines += [f"{p.severity}: {p}" for p in self.problems]
        return "\n".join(lines)


@dataclass
class LoadResult:
    """A checked canonical frame and the report of how it was read."""

    frame: gpd.GeoDataFrame
    report: LoadReport


def load_summary(report: LoadReport, frame: pd.DataFrame, tz: str | None = None,
                 counts: dict[str, dict[str, int]] | None = None) -> dict[str, Any]:
    """The object ``mapviewer inspect --json`` prints for a read: report, counts, date range.

    Keys: ``path, format, rows_read, rows_loaded, rows_rejected, problems, counts{munition,
    outcome, munition_class}, date_min, date_max``; dates in the working zone ``tz`` (default
    Europe/Kyiv) with their UTC offset: a day-dated event of 13 March is
    ``2022-03-13T00:00:00+02:00``. ``counts`` replaces the counts of ``frame``'s columns (attack
    waves count launches, not events).
    """
    from geodata.schema import DEFAULT_TZ

    times = frame["occurred_at"].dropna()
    if len(times):
        times = times.dt.tz_convert(tz or DEFAULT_TZ)

    def counted(column: str) -> dict[str, int]:
        return {str(k): int(v) for k, v in frame[column].value_counts().items() if v}

    return {
        "path": report.path,
        "format": report.format,
        "rows_read": report.rows_read,
        "rows_loaded": report.rows_loaded,
        "rows_rejected": report.rows_rejected,
        "problems": [p.to_dict() for p in report.problems],
        "counts": counts if counts is not None else {
            "munition": counted("munition"), "outcome": counted("outcome"),
            "munition_class": counted("munition_class")},
        "date_min": times.min().isoformat() if len(times) else None,
        "date_max": times.max().isoformat() if len(times) else None,
    }
