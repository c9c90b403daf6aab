"""The open files' reports counted once per strike (geodata.strikes), without Qt."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geodata import FilterState
from geodata.multisource import make_multisource
from geodata.strikes import count_strikes, decisions_path_for, source_keys, strike_counts, strikes_words


@pytest.fixture(scope="module")
def opened():
    """Three synthetic sources as the app holds them: one frame, a ``dataset`` column naming the file."""
    data = make_multisource(300, seed=5)
    parts = [f.assign(dataset=f"/data/{key}") for key, f in data.frames.items()]
    reports = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs="EPSG:4326")
    return reports, count_strikes(reports)


def test_each_report_belongs_to_one_strike_row(opened):
    reports, strikes = opened
    n, m, k = strike_counts(strikes.frame)
    assert m == len(reports) and n == len(strikes.frame) < m and 0 < k < m
    assert strikes_words(strikes.frame) == f"{n:,} strikes from {m:,} reports"
    sizes = np.bincount(strikes.strike_of, minlength=n)
    assert (sizes == strikes.frame["reports"].to_numpy()).all()
    # a strike is drawn where its most precise report places it, and names the file of that report
    ranks = {"exact": 0, "settlement": 1, "region": 2}
    for strike in range(0, n, 7):
        members = strikes.reports_of(strike)
        best = min(ranks.get(str(p), 3) for p in reports["geo_precision"].iloc[members])
        rep = strikes.representative[strike]
        assert ranks.get(str(reports["geo_precision"].iloc[rep]), 3) == best
        assert strikes.frame["dataset"].iloc[strike] == reports["dataset"].iloc[rep]
        assert strikes.frame.geometry.iloc[strike].equals(reports.geometry.iloc[rep])
        assert strikes.ref(int(members[0]))[0] in ("cir.csv", "bellingcat.csv", "acled.csv")


def test_strikes_of_separate_months_add_up(opened):
    # each strike has one time: the months' strikes never overlap, so their counts add up to the whole
    _, strikes = opened
    frame = strikes.frame
    local = frame["occurred_at"].dt.tz_convert("Europe/Kyiv")
    months = sorted({(t.year, t.month) for t in local.dropna()})
    total = 0
    for year, month in months:
        start = pd.Timestamp(year=year, month=month, day=1)
        end = start + pd.offsets.MonthEnd(0)
        total += int(FilterState(start=start.date(), end=end.date()).mask(frame).sum())
    assert total == int(frame["occurred_at"].notna().sum())


def test_files_are_named_by_their_file_name_unless_two_share_it(tmp_path):
    assert source_keys(["/a/cir.csv", "/b/acled.csv"]) == {"/a/cir.csv": "cir.csv", "/b/acled.csv": "acled.csv"}
    assert source_keys(["/a/cir.csv", "/b/cir.csv"]) == {"/a/cir.csv": "/a/cir.csv", "/b/cir.csv": "/b/cir.csv"}
    assert decisions_path_for([str(tmp_path / "cir.csv"), "/elsewhere/acled.csv"]) == str(tmp_path / "strike-matches.json")
    assert decisions_path_for(["postgresql://me@db/strikes"]) is None
