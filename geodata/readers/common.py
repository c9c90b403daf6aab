"""Steps every reader shares: file checks and turning a mapped table into a LoadResult."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.errors import DataError
from geodata.normalize import build_frame
from geodata.report import LoadReport, LoadResult
from geodata.schema import DEFAULT_TZ


def check_file(path: str | Path) -> Path:
    """The path as a Path; DataError when it is missing, a folder or empty."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: file not found")
    if p.is_dir():
        raise DataError(f"{p}: is a folder, not a file")
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise DataError(f"{p}: cannot be read ({exc.strerror or exc})") from exc
    if size == 0:
        raise DataError(f"{p}: file is empty")
    return p


def finish(
    table: pd.DataFrame,
    rows: np.ndarray,
    mapping: Mapping[str, str],
    report: LoadReport,
    *,
    path: Path,
    tz: str = DEFAULT_TZ,
    dayfirst: bool | None = None,
    region: tuple[float, float, float, float] | None = None,
    **_ignored: object,
) -> LoadResult:
    """Rename mapped columns to canonical names, join date and time columns, check every row."""
    labels = {target: header for header, target in mapping.items()}
    raw = table.rename(columns=dict(mapping))
    if "time" in raw.columns:
        # a separate time-of-day column completes the date; the joined value is what is checked
        date = raw["occurred_at"].astype("str").where(raw["occurred_at"].notna())
        clock = raw["time"].astype("str").where(raw["time"].notna()).str.strip()
        joined = date.str.strip().str.cat(clock, sep=" ")
        raw["occurred_at"] = joined.where(clock.notna() & (clock != ""), date)
        raw = raw.drop(columns="time")
        labels["occurred_at"] = f"{labels['occurred_at']}+{labels.pop('time')}"
    frame = build_frame(raw, report, rows=rows, tz=tz, dayfirst=dayfirst, id_prefix=path.stem,
                        labels=labels, region=region)
    # file-level findings first, then row by row (stable: a row's findings keep their order)
    report.problems.sort(key=lambda q: (q.row is not None, q.row or 0))
    report.check()
    return LoadResult(frame, report)
