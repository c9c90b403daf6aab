"""Write large synthetic incident CSVs for the benchmarks (into benchmarks/data/, git-ignored).

    python benchmarks/make_data.py                 # 1,000,000 rows
    python benchmarks/make_data.py --rows 100000 1000000 --days 730

Each file is ``incidents_<rows>.csv``: the canonical columns with ``latitude`` and
``longitude`` instead of the geometry, times as ISO-8601 UTC text, and every
record marked SYNTHETIC (see ``geodata.sample``).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from geodata.sample import make_sample

DATA_DIR = Path(__file__).resolve().parent / "data"


def _iso_utc(times: pd.Series) -> pa.Array:
    """ISO-8601 UTC text, formatted by Arrow (pandas' strftime is slow on millions of rows)."""
    seconds = pa.array(times).cast(pa.timestamp("s", tz="UTC"))
    return pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%SZ")


def write_csv(rows: int, path: Path, *, seed: int = 20250930, days: int = 730) -> Path:
    """Generate ``rows`` events and write them as CSV to ``path``."""
    frame = make_sample(seed=seed, n=rows, days=days)
    table = pd.DataFrame({
        "event_id": frame["event_id"],
        "occurred_at": _iso_utc(frame["occurred_at"]),
        "time_precision": frame["time_precision"].astype(str),
        "latitude": frame.geometry.y,
        "longitude": frame.geometry.x,
        "location": frame["location"],
        "admin1": frame["admin1"],
        "geo_precision": frame["geo_precision"].astype(str),
        "munition": frame["munition"],
        "munition_class": frame["munition_class"].astype(str),
        "outcome": frame["outcome"].astype(str),
        "killed": frame["killed"],
        "injured": frame["injured"],
        "source": frame["source"],
        "source_url": frame["source_url"],
        "notes": frame["notes"],
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    # pyarrow writes a million rows in about a second; missing figures become empty fields.
    pacsv.write_csv(pa.Table.from_pandas(table, preserve_index=False), path,
                    write_options=pacsv.WriteOptions(quoting_style="needed"))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000], help="row counts (one file each)")
    parser.add_argument("--seed", type=int, default=20250930)
    parser.add_argument("--days", type=int, default=730, help="span of days the events cover")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output folder (default benchmarks/data)")
    args = parser.parse_args(argv)
    for rows in args.rows:
        start = time.perf_counter()
        path = write_csv(rows, args.out / f"incidents_{rows}.csv", seed=args.seed, days=args.days)
        print(f"{path}: {rows:,} rows, {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
