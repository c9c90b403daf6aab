"""Builders of test data shared by the test modules: canonical event frames."""
from __future__ import annotations

from typing import Any, Sequence

import geopandas as gpd
import pandas as pd

from geodata.schema import (
    CANONICAL_COLUMNS,
    GEO_PRECISION_DTYPE,
    MUNITION_CLASS_DTYPE,
    OUTCOME_DTYPE,
    TIME_PRECISION_DTYPE,
)

_DTYPES: dict[str, Any] = {
    "time_precision": TIME_PRECISION_DTYPE,
    "geo_precision": GEO_PRECISION_DTYPE,
    "munition_class": MUNITION_CLASS_DTYPE,
    "outcome": OUTCOME_DTYPE,
    "killed": "Int64",
    "injured": "Int64",
}
_DEFAULTS: dict[str, Any] = {
    "occurred_at": "2025-09-29T22:00:00Z",
    "time_precision": "exact",
    "location": "Place",
    "admin1": "Kyiv Oblast",
    "geo_precision": "exact",
    "munition": "KN-23",
    "munition_class": "ballistic missile",
    "outcome": "impact",
    "killed": None,
    "injured": None,
    "source": "test",
    "source_url": None,
    "notes": None,
}


def canonical_frame(lon: Sequence[float], lat: Sequence[float], *, index: pd.Index | None = None,
                    **columns: Any) -> gpd.GeoDataFrame:
    """A frame in the canonical schema (as ``geodata.read_incidents`` returns it), one row per point.

    Each canonical column is a sequence (one value per row) or a single value for every row; columns
    not given take plain defaults (``event_id`` ``E-0``, ``E-1``...). Columns that are not canonical
    are added after the canonical ones, as extra input columns are.
    """
    n = len(lon)
    values = {"event_id": [f"E-{i}" for i in range(n)], **_DEFAULTS, **columns}

    def column(name: str) -> Any:
        value = values[name]
        cells = list(value) if isinstance(value, (list, tuple, pd.Series, pd.Index)) or hasattr(value, "__array__") \
            else [value] * n
        if name == "occurred_at":
            return pd.to_datetime(cells, utc=True)
        dtype = _DTYPES.get(name, "string")
        return pd.Categorical(cells, dtype=dtype) if isinstance(dtype, pd.CategoricalDtype) else pd.array(cells, dtype=dtype)

    data = {name: column(name) for name in CANONICAL_COLUMNS if name != "geometry"}
    data |= {name: value for name, value in columns.items() if name not in CANONICAL_COLUMNS}
    frame = gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(lon, lat, crs="EPSG:4326"), crs="EPSG:4326",
                             index=index)
    return frame[list(CANONICAL_COLUMNS) + [c for c in columns if c not in CANONICAL_COLUMNS]]


def sample_csv_file(folder, n: int):
    """``folder/incidents.csv``: ``n`` rows of the synthetic sample written as CSV."""
    from pathlib import Path

    from geodata.sample import make_sample
    from geodata.writers import write_csv

    path = Path(folder) / "incidents.csv"
    write_csv(make_sample(n=n), path)
    return path


def run_export_cli(argv, capsys) -> tuple[int, str, str]:
    """``mapviewer export ARGV`` in this process: (exit status, stdout, stderr)."""
    from mapviewer.cli.export import run_export

    code = run_export([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err
