"""The last step of every reader: a table with the file's rows into a checked LoadResult."""
from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.normalize import build_frame
from geodata.readers.columns import TARGETS, header_key
from geodata.report import LoadReport, LoadResult
from geodata.schema import DEFAULT_TZ


def finish(
    table: pd.DataFrame,
    rows: np.ndarray | pd.Index,
    mapping: Mapping[str, str] | None,
    report: LoadReport,
    *,
    path: Path,
    tz: str = DEFAULT_TZ,
    dayfirst: bool | None = None,
    default_dayfirst: bool = True,
    labels: Mapping[str, str] | None = None,
    rejected: Collection[int] = (),
    region: tuple[float, float, float, float] | None = None,
    geocode: bool = True,
    geometry: bool = True,
    **_ignored: object,
) -> LoadResult:
    """Check every row of ``table`` and account for every row read.

    ``mapping`` renames the file's headers to canonical names (None: ``table`` has them already);
    ``labels`` names the file's own header of a canonical column for messages (taken from
    ``mapping`` when not given). ``rejected`` lists rows the reader already rejected and reported:
    those in ``table`` are dropped, and each counts once as read and rejected. ``dayfirst`` forces
    the day/month order of dates; ``default_dayfirst`` is the order when the data cannot tell.
    ``geocode=False`` rejects rows without coordinates instead of placing them at the place their
    location names (see :func:`geodata.normalize.build_frame`). ``geometry=False`` gives each place as
    ``latitude``/``longitude`` columns instead of shapely points (a plain DataFrame, see geodata.points).
    """
    rows = np.asarray(rows, dtype=np.int64)
    names = dict(labels or {})
    if mapping is not None:
        names = {target: header for header, target in mapping.items()} | names
        renames = dict(mapping)
        # an unmapped column named like a canonical one (another header took that role) keeps its
        # data under a name that cannot be confused with the canonical column
        for header in table.columns:
            if header not in mapping and header in TARGETS:
                renames[header] = f"{header} (file)"
        table = table.rename(columns=renames)
        _name_mappings(mapping, report)
    gone = set(rejected)
    if gone:
        keep = ~np.isin(rows, sorted(gone))
        table, rows = table[keep], rows[keep]
        report.rows_read += len(gone)
        report.rows_rejected += len(gone)
    if "wkt" in table.columns:
        table = _geometry_from_wkt(table, names.get("wkt", "wkt"), rows, report)
        names["geometry"] = names.pop("wkt", "wkt")
    frame = build_frame(table, report, rows=rows, tz=tz, dayfirst=dayfirst, default_dayfirst=default_dayfirst,
                        id_prefix=path.stem, labels=names, region=region, geocode=geocode,
                        geometry=geometry)
    # file-level findings first, then row by row (stable: a row's findings keep their order)
    report.problems.sort(key=lambda q: (q.row is not None, q.row or 0))
    report.check()
    return LoadResult(frame, report)


def _name_mappings(mapping: Mapping[str, str], report: LoadReport) -> None:
    """Say which header was read as which column, where the header is not the column's own name
    (the report has no lighter level than a warning: these are file-level notes)."""
    for header, target in mapping.items():
        if header_key(header) != target:
            report.add(None, header, f"column {header!r} read as {target}", "warning")


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
