"""The synthetic sample: deterministic, canonical, plausible, with the Kyiv night, labelled synthetic."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyogrio
import pytest

from geodata import FilterState
from geodata.sample import (
    LAST_NIGHT,
    SAMPLE_LAYER,
    make_sample,
    make_waves,
    sample_path,
    sample_waves_path,
    write_sample,
    write_waves,
)
from geodata.schema import (
    CANONICAL_COLUMNS,
    GEO_PRECISIONS,
    MUNITION_CLASSES,
    OUTCOMES,
    TIME_PRECISIONS,
)
from geodata.stats import summarize

# The contract's classes for the canonical names.
CONTRACT_CLASSES = {
    "KN-23": "ballistic missile", "KN-24": "ballistic missile", "9M723 Iskander-M": "ballistic missile",
    "Kh-47M2 Kinzhal": "ballistic missile", "Kh-101": "cruise missile", "Kh-555": "cruise missile",
    "3M-14 Kalibr": "cruise missile", "9M728 Iskander-K": "cruise missile", "9M729": "cruise missile",
    "Kh-59": "cruise missile", "Kh-69": "cruise missile", "P-800 Oniks": "cruise missile",
    "Kh-22": "air-launched missile", "Kh-32": "air-launched missile", "Kh-31P": "air-launched missile",
    "Shahed-136": "loitering munition", "Shahed-131": "loitering munition", "Lancet": "loitering munition",
    "KAB": "guided bomb", "UMPK": "guided bomb", "S-300": "surface-to-air missile",
    "S-400": "surface-to-air missile", "Tornado-S": "rocket artillery", "Smerch": "rocket artillery",
    "Grad": "rocket artillery", "Gerbera": "decoy",
}


@pytest.fixture(scope="module")
def sample():
    return make_sample()


@pytest.fixture(scope="module")
def big():
    return make_sample(seed=7, n=30_000)


def _night(frame: pd.DataFrame) -> pd.DataFrame:
    evening = pd.Timestamp(LAST_NIGHT).tz_localize("Europe/Kyiv") + pd.Timedelta(hours=18)
    return frame[frame["occurred_at"] >= evening]


def test_same_seed_same_events_other_seed_others():
    a = make_sample(seed=3, n=400)
    pd.testing.assert_frame_equal(a, make_sample(seed=3, n=400))
    b = make_sample(seed=4, n=400)
    assert not a["geometry"].geom_equals(b["geometry"]).all()


def test_canonical_shape(sample):
    assert list(sample.columns) == list(CANONICAL_COLUMNS)
    assert len(sample) == 3000
    assert sample.crs.to_epsg() == 4326
    assert str(sample["occurred_at"].dt.tz) == "UTC"
    assert sample["occurred_at"].is_monotonic_increasing
    assert list(sample["outcome"].cat.categories) == list(OUTCOMES)
    assert list(sample["munition_class"].cat.categories) == list(MUNITION_CLASSES)
    assert list(sample["time_precision"].cat.categories) == list(TIME_PRECISIONS)
    assert list(sample["geo_precision"].cat.categories) == list(GEO_PRECISIONS)
    assert str(sample["killed"].dtype) == "Int64" and str(sample["injured"].dtype) == "Int64"
    assert sample.index.name == "row" and sample.index[0] == 1
    assert sample["event_id"].is_unique
    assert sample[["location", "admin1", "munition", "source", "source_url", "notes"]].notna().all().all()


def test_every_record_says_synthetic(sample):
    assert sample["notes"].str.startswith("SYNTHETIC").all()
    assert sample["source"].str.contains("synthetic").all()


def test_munitions_are_canonical_with_contract_classes(big):
    classes = big.groupby("munition", observed=True)["munition_class"].agg(lambda s: set(s.astype(str)))
    assert {m: c.pop() for m, c in classes.items()} == {m: CONTRACT_CLASSES[m] for m in classes.index}
    assert set(classes.index) <= set(CONTRACT_CLASSES)


def test_munitions_resolve_in_the_catalogue(big):
    munitions = pytest.importorskip("geodata.munitions")
    for name in big["munition"].unique():
        found = munitions.resolve_munition(name)
        assert found is not None and found.name == name, name
        assert found.munition_class == CONTRACT_CLASSES[name]


def test_places_are_in_ukraine_with_oblast_names(big):
    import pycountry

    oblasts = {s.name for s in pycountry.subdivisions.get(country_code="UA")}
    assert set(big["admin1"]) <= oblasts
    assert len(set(big["admin1"])) >= 20  # spread across the country
    x, y = big.geometry.x, big.geometry.y
    assert x.between(22.0, 40.3).all() and y.between(44.3, 52.4).all()
    kharkiv = big[big["location"] == "Kharkiv"]
    assert (kharkiv["admin1"] == "Kharkivska oblast").all() and len(kharkiv) > 0


def test_rates_in_line_with_public_reporting(big):
    s = summarize(big)
    ir, dv = s.interception_rate, s.deviation_rate
    assert ir["Shahed-136"] > 0.75  # most drones shot down
    assert ir["Kh-101"] > 0.7 and ir["3M-14 Kalibr"] > 0.7
    assert dv["KN-23"] > 0.2  # KN-23 often deviates ...
    assert all(dv["KN-23"] > (dv[m] or 0) for m in s.by_munition if m not in {"KN-23", "KN-24"})
    for m in ("9M723 Iskander-M", "KAB"):  # ... Iskander-M and guided bombs mostly hit
        assert s.outcomes_by_munition[m]["impact"] / s.by_munition[m] > 0.5
    assert s.by_munition["Shahed-136"] == max(s.by_munition.values())


def test_precision_and_casualties_mostly_plain(big):
    assert (big["geo_precision"] == "exact").mean() > 0.7
    assert set(big["geo_precision"]) == set(GEO_PRECISIONS)
    assert (big["time_precision"] == "exact").mean() > 0.8
    assert set(big["time_precision"]) == set(TIME_PRECISIONS)
    killed = big["killed"]
    assert (killed.fillna(0) == 0).mean() > 0.9
    assert (killed > 0).sum() > 0
    assert 0 < killed.isna().sum() < 0.1 * len(big)  # some reports give no figures


def test_day_precision_events_sit_on_local_midnight(big):
    day = big.loc[big["time_precision"] == "day", "occurred_at"].dt.tz_convert("Europe/Kyiv")
    assert len(day) and (day == day.dt.normalize()).all()


def test_the_kyiv_night_is_the_most_recent_night(sample):
    night = _night(sample)
    assert len(night) == 61
    assert night.index.max() == sample.index.max()  # nothing after it
    s = summarize(night)
    assert s.by_munition == {"Shahed-136": 57, "KN-23": 4}
    assert s.outcomes_by_munition["Shahed-136"]["intercepted"] == 53
    kn23 = night[night["munition"] == "KN-23"]
    assert sorted(kn23["outcome"].astype(str)) == ["deviated", "impact", "impact", "impact"]
    # impacts in the suburbs: Kyiv oblast, not the city
    assert set(kn23.loc[kn23["outcome"] == "impact", "admin1"]) == {"Kyivska oblast"}
    deviated = kn23[kn23["outcome"] == "deviated"].iloc[0]
    assert "exploded in the air" in deviated["notes"]
    assert s.killed == 2
    victims = night[night["killed"] > 0].iloc[0]
    assert "father" in victims["notes"] and "four-year-old son" in victims["notes"]
    assert {g for g in kn23["geo_precision"]} >= {"exact", "settlement"}


def test_last_24_hours_with_kn23_shows_four_symbols(sample):
    newest = sample["occurred_at"].max()
    state = FilterState(start=(newest - pd.Timedelta(hours=24)).to_pydatetime(), munitions={"KN-23"})
    assert state.mask(sample).sum() == 4


def test_shipped_geopackage_is_labelled_synthetic_and_small():
    path = sample_path()
    assert path.is_file() and path.suffix == ".gpkg"
    assert path.stat().st_size < 2_000_000
    info = pyogrio.read_info(path, layer=SAMPLE_LAYER)
    assert "SYNTHETIC" in info["layer_metadata"]["DESCRIPTION"]
    assert info["layer_metadata"]["SYNTHETIC"] == "yes"
    assert "SYNTHETIC" in info["layer_metadata"]["DESCRIPTION"]
    assert info["crs"] == "EPSG:4326" and info["geometry_type"] == "Point"


def test_shipped_geopackage_holds_the_current_sample(sample):
    shipped = pyogrio.read_dataframe(sample_path(), layer=SAMPLE_LAYER)
    assert list(shipped["event_id"]) == list(sample["event_id"])
    times = pd.to_datetime(shipped["occurred_at"], format="%Y-%m-%dT%H:%M:%SZ", utc=True)
    assert (times.to_numpy() == sample["occurred_at"].to_numpy()).all()
    assert list(shipped["munition"]) == list(sample["munition"])
    assert list(shipped["outcome"]) == list(sample["outcome"].astype(str))
    assert np.allclose(shipped.geometry.x, sample.geometry.x) and np.allclose(shipped.geometry.y, sample.geometry.y)
    assert shipped["notes"].str.startswith("SYNTHETIC").all()
    assert (shipped["killed"].isna() == sample["killed"].isna().to_numpy()).all()


def test_writing_is_deterministic(tmp_path):
    frame = make_sample(n=200)
    a = write_sample(tmp_path / "a.gpkg", frame).read_bytes()
    b = write_sample(tmp_path / "b.gpkg", frame).read_bytes()
    assert a == b


def test_too_small_n_is_refused():
    with pytest.raises(ValueError, match="at least 61"):
        make_sample(n=10)


def test_kyiv_night_date_is_fixed(sample):
    assert _night(sample)["occurred_at"].dt.tz_convert("Europe/Kyiv").dt.date.min() == LAST_NIGHT
    assert _night(sample)["occurred_at"].dt.tz_convert("Europe/Kyiv").dt.date.max() == LAST_NIGHT + dt.timedelta(days=1)


def test_reading_the_shipped_file_gives_the_sample_back(sample):
    from geodata import read_incidents

    result = read_incidents(sample_path())
    assert result.report.rows_loaded == len(sample) and result.report.rows_rejected == 0
    assert result.report.problems == []
    pd.testing.assert_frame_equal(result.frame, sample, check_exact=False, rtol=1e-9)


def test_reading_the_sample_leaves_no_gdal_side_file(tmp_path, sample):
    from geodata import read_incidents

    # no GDAL side file ships, nor appears beside the shipped sample once it has been read
    read_incidents(sample_path())
    assert not sample_path().with_name("incidents.gpkg.aux.xml").exists()
    copy = tmp_path / "incidents.gpkg"
    write_sample(copy, make_sample(n=200))
    read_incidents(copy)
    pyogrio.read_dataframe(copy, layer=SAMPLE_LAYER)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["incidents.gpkg"]  # no incidents.gpkg.aux.xml


# -- the matching Air Force wave report ------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped_waves():
    from geodata.waves import read_waves

    return read_waves(sample_waves_path())


def test_shipped_wave_report_reads_cleanly_and_says_synthetic(shipped_waves):
    from geodata.readers import detect_format

    assert sample_waves_path().name == "waves.csv" and sample_waves_path().parent == sample_path().parent
    assert detect_format(sample_waves_path()) == "airforce_waves"
    report, waves = shipped_waves.report, shipped_waves.frame
    assert report.rows_rejected == 0 and report.problems == []  # every model, place and time is understood
    assert len(waves) > 100
    assert waves["notes"].str.startswith("SYNTHETIC").all()  # kept by the reader as its own column
    assert waves["source"].str.contains("synthetic").all()
    assert waves["munition_names"].map(len).gt(0).all()


def test_the_last_night_has_the_story_s_figures(shipped_waves, sample):
    from geodata.waves import wave_funnel

    waves = shipped_waves.frame
    last = waves[waves["occurred_at"].dt.tz_convert("Europe/Kyiv").dt.date >= LAST_NIGHT]
    assert set(last["munition"]) == {"Shahed-136 / Gerbera", "KN-23"}
    drones = last[last["munition"] == "Shahed-136 / Gerbera"].iloc[0]
    assert (drones["launched"], drones["intercepted"], drones["impact"]) == (57, 53, 4)
    kn23 = last[last["munition"] == "KN-23"].iloc[0]
    assert (kn23["launched"], kn23["intercepted"]) == (4, 0)
    # "Last 24 h" around the night: 57 launched, 53 intercepted, 4 not, of which all geolocated
    night = FilterState(start=dt.date(2025, 9, 30), end=dt.date(2025, 9, 30))
    funnel = wave_funnel(waves, sample, night)
    assert funnel.loc["Shahed-136 / Gerbera", "geolocated"] == 57
    assert funnel.loc["Shahed-136 / Gerbera", "geolocated_impacts"] == 4
    assert funnel.loc["KN-23", "geolocated"] == 4
    assert "Kyiv Oblast" in set(last["target_admin1"].sum())


def test_waves_agree_with_the_sample_s_events(shipped_waves, sample):
    from geodata.waves import wave_funnel

    waves = shipped_waves.frame
    funnel = wave_funnel(waves, sample)
    # what was geolocated is part of what the reports count
    assert (funnel["geolocated"] <= funnel["launched"]).all()
    assert (funnel["geolocated_impacts"] <= funnel["impacts"]).all()
    assert funnel["geolocated"].sum() > 0.5 * funnel["launched"].sum()
    # a wave for every night with long-range events of the sample, and none on quiet nights
    long_range = sample[sample["munition"].isin({n for names in waves["munition_names"] for n in names})
                        & (sample["time_precision"] != "month")]
    local = long_range["occurred_at"].dt.tz_convert("Europe/Kyiv").dt.tz_localize(None)
    event_nights = set((local - pd.Timedelta(hours=12)).dt.date)
    wave_nights = set((waves["occurred_at"].dt.tz_convert("Europe/Kyiv").dt.tz_localize(None)
                       - pd.Timedelta(hours=12)).dt.date)
    assert wave_nights == event_nights
    assert waves["target_admin1"].map(len).gt(0).all()  # every wave shades some oblast


def test_shipped_wave_report_holds_the_current_sample(sample, tmp_path):
    assert sample_waves_path().read_bytes() == write_waves(tmp_path / "w.csv", make_waves(sample)).read_bytes()


def test_writing_waves_is_deterministic(tmp_path):
    frame = make_sample(n=400)
    a = write_waves(tmp_path / "a.csv", make_waves(frame)).read_bytes()
    b = write_waves(tmp_path / "b.csv", make_waves(make_sample(n=400))).read_bytes()
    assert a == b
    assert a.count(b"\r") == 0 and a.startswith(b"time_start,time_end,model,")
