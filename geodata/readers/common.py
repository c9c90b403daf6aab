"""Steps every reader shares: file checks and turning a mapped table into a LoadResult."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.errors import DataError
from geodata.normalize import build_frame
from geodata.readers.columns import TARGETS
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
    geocode: bool = True,
    **_ignored: object,
) -> LoadResult:
    """Rename mapped columns to canonical names, join date and time columns, check every row.

    ``geocode=False`` rejects rows without coordinates instead of placing them at the place
    their location names (see :func:`geodata.normalize.build_frame`).
    """
    labels = {target: header for header, target in mapping.items()}
    renames = dict(mapping)
    # an unmapped column named like a canonical one (another header took that role) keeps its
    # data under a name that cannot be confused with the canonical column
    for header in table.columns:
        if header not in mapping and header in TARGETS:
            renames[header] = f"{header} (file)"
    raw = table.rename(columns=renames)
    if "time" in raw.columns:
        # a separate time-of-day column completes the date; the joined value is what is checked
        date = raw["occurred_at"].astype("str").where(raw["occurred_at"].notna())
        clock = raw["time"].astype("str").where(raw["time"].notna()).str.strip()
        joined = date.str.strip().str.cat(clock, sep=" ")
        raw["occurred_at"] = joined.where(clock.notna() & (clock != ""), date)
        raw = raw.drop(columns="time")
        labels["occurred_at"] = f"{labels['occurred_at']}+{labels.pop('time')}"
    if "wkt" in raw.columns:
        raw = _geometry_from_wkt(raw, labels.get("wkt", "wkt"), rows, report)
        labels["geometry"] = labels.pop("wkt", "wkt")
    frame = build_frame(raw, report, rows=rows, tz=tz, dayfirst=dayfirst, id_prefix=path.stem,
                        labels=labels, region=region, geocode=geocode)
    # file-level findings first, then row by row (stable: a row's findings keep their order)
    report.problems.sort(key=lambda q: (q.row is not None, q.row or 0))
    report.check()
    return LoadResult(frame, report)


def _geometry_from_wkt(raw: pd.DataFrame, label: str, rows: np.ndarray, report: LoadReport) -> pd.DataFrame:
    """A WKT text column (QGIS-style CSV export) as the geometry; unreadable text is named per row."""
    text = raw["wkt"].astype("str").where(raw["wkt"].notna())
    geoms = shapely.from_wkt(text.to_numpy(dtype=object, na_value=None), on_invalid="ignore")
    bad = text.notna().to_numpy() & (geoms == None)  # noqa: E711  (element-wise)
    for r, value in zip(rows[bad].tolist(), text[bad].tolist()):
        report.add(int(r), label, f"geometry {value!r} is not readable WKT (e.g. POINT (30.52 50.45))", "error")
    out = raw.drop(columns=["wkt", "latitude", "longitude"], errors="ignore")
    out["geometry"] = gpd.GeoSeries(geoms, index=out.index, crs="EPSG:4326").array
    return out
