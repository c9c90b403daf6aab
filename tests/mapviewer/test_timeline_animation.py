"""Animation export: frame counts and frame contents of GIF and MP4 files, drawn with no window."""
from __future__ import annotations

import datetime as dt
import threading

import geopandas as gpd
import imageio.v3 as iio
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from geodata import DataError, FilterState
from geodata.schema import GEO_PRECISION_DTYPE
from geodata.timeline import describe_window, frame_filter
from mapviewer.export.animation import AnimationCancelled, animation_frames, animation_images, export_animation
from mapviewer.export.figure import render_figure
from tests.factories import canonical_frame

TZ = "Europe/Kyiv"


def three_days() -> gpd.GeoDataFrame:
    """Impacts on 1 May, nothing on 2 May, interceptions on 3 May (Kyiv time), spread over Ukraine."""
    rows = [(pd.Timestamp(2024, 5, 1, 10 + i, tz=TZ), "impact", 26 + 3 * i, 48 + i % 3) for i in range(4)]
    rows += [(pd.Timestamp(2024, 5, 3, 10 + i, tz=TZ), "intercepted", 27 + 3 * i, 49 + i % 2) for i in range(4)]
    return canonical_frame([r[2] for r in rows], [r[3] for r in rows], event_id=[f"A-{i}" for i in range(len(rows))],
                           occurred_at=[r[0] for r in rows], outcome=[r[1] for r in rows], admin1="Oblast", notes="")


def impact_and_intercepted_pixels(image: np.ndarray) -> tuple[int, int]:
    """Pixels with the hue of the impact colour (orange-brown) and of the intercepted colour (green).

    Hue, not exact colour: markers are small, GIF palettes and H.264 shift colours.
    """
    r, g, b = (image[..., i].astype(int) for i in range(3))
    orange = (r - b > 50) & (r > g + 20)
    green = (g - r > 40) & (g > b)
    return int(orange.sum()), int(green.sum())


@pytest.mark.parametrize("fmt", ["gif", "mp4"])
def test_exported_frames_follow_the_data(tmp_path, fmt):
    out = tmp_path / f"three.{fmt}"
    steps = []
    count = export_animation(three_days(), out, filter_state=FilterState(), step="1d", fmt=fmt, title="Test",
                             dpi=50, progress=lambda done, total: steps.append((done, total)))
    assert count == 3 and steps == [(1, 3), (2, 3), (3, 3)]
    frames = iio.imread(out, index=None)
    assert len(frames) == 3
    orange, green = zip(*(impact_and_intercepted_pixels(f) for f in frames))
    # 1 May shows impacts only; 2 May nothing; 3 May interceptions only.
    assert orange[0] > 20 and green[0] < orange[0] / 5
    assert orange[1] < orange[0] / 5 and green[1] < green[2] / 5
    assert green[2] > 20 and orange[2] < green[2] / 5
    assert all(f.shape == frames[0].shape for f in frames)


def test_cumulative_frames_keep_earlier_events(tmp_path):
    out = tmp_path / "cumulative.gif"
    export_animation(three_days(), out, filter_state=FilterState(), step="1d", cumulative=True, dpi=50)
    frames = iio.imread(out, index=None)
    orange, green = zip(*(impact_and_intercepted_pixels(f) for f in frames))
    assert len(frames) == 3
    assert min(orange) > 20 and green[2] > 20 and green[0] < green[2] / 5


def test_the_filters_bound_the_animation(tmp_path):
    state = FilterState(start=dt.date(2024, 5, 2), end=dt.date(2024, 5, 3), outcomes={"intercepted"})
    windows = animation_frames(three_days(), state, step="1d")
    assert [a.tz_convert(TZ).day for a, _ in windows] == [2, 3]
    skipped = animation_frames(three_days(), FilterState(), step="1d", skip_empty=True)
    assert [a.tz_convert(TZ).day for a, _ in skipped] == [1, 3]
    windows = animation_frames(three_days(), FilterState(), step="1d", window="2d")
    assert [(a.tz_convert(TZ).day, b.tz_convert(TZ).day) for a, b in windows] == [(1, 2), (1, 3), (2, 4)]


def test_cancel_removes_the_partial_file(tmp_path):
    out = tmp_path / "cancelled.gif"
    stop = threading.Event()
    with pytest.raises(AnimationCancelled):
        export_animation(three_days(), out, filter_state=FilterState(), step="1d", dpi=30, renderer="scatter",
                         progress=lambda done, total: stop.set(), cancel=stop)
    assert not out.exists()


def test_bad_requests_are_reported(tmp_path):
    with pytest.raises(DataError, match="gif or mp4"):
        export_animation(three_days(), tmp_path / "a.avi", filter_state=FilterState())
    with pytest.raises(DataError, match="nothing to animate"):
        export_animation(three_days(), tmp_path / "a.gif", filter_state=FilterState(outcomes={"debris"}))
    with pytest.raises(DataError, match="duration"):
        export_animation(three_days(), tmp_path / "a.gif", filter_state=FilterState(), step="daily")
    assert not list(tmp_path.iterdir())


def test_frames_drawn_in_worker_processes_match_serial_ones(tmp_path):
    serial, parallel = tmp_path / "serial.gif", tmp_path / "parallel.gif"
    export_animation(three_days(), serial, filter_state=FilterState(), step="1d", dpi=30, workers=1)
    export_animation(three_days(), parallel, filter_state=FilterState(), step="1d", dpi=30, workers=2)
    a, b = iio.imread(serial, index=None), iio.imread(parallel, index=None)
    assert a.shape == b.shape and len(a) == 3
    assert np.array_equal(a, b)


def test_an_existing_file_survives_a_cancelled_export(tmp_path):
    out = tmp_path / "kept.gif"
    out.write_bytes(b"earlier export")
    with pytest.raises(AnimationCancelled):
        export_animation(three_days(), out, filter_state=FilterState(), step="1d", dpi=30, cancel=lambda: True)
    assert out.read_bytes() == b"earlier export"
    assert [p.name for p in tmp_path.iterdir()] == ["kept.gif"]


def test_each_frame_is_the_print_figure_of_its_window():
    """Frames share one page, yet each equals a fresh figure of its window: nothing left from earlier frames."""
    data = three_days()
    # A located-by-region impact on 1 May: a halo and a hollow symbol that must be gone by 3 May.
    data["geo_precision"] = pd.Categorical(["region"] + ["exact"] * (len(data) - 1), dtype=GEO_PRECISION_DTYPE)
    extent = (24.0, 46.0, 38.0, 52.0)
    state = FilterState(munitions={"KN-23"})
    count, images = animation_images(data, filter_state=state, step="1d", title="Test", dpi=40, extent=extent,
                                     workers=1)
    images = list(images)
    windows = animation_frames(data, state, step="1d")
    assert count == len(images) == len(windows) == 3
    for image, (a, b) in zip(images, windows):
        label = describe_window(a, b, TZ)
        figure = render_figure(data, filter_state=frame_filter(state, a, b), title=f"Test · {label}", dpi=40,
                               extent=extent, note=label)
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        expected = np.asarray(canvas.buffer_rgba())[..., :3]
        assert image.shape == expected.shape
        assert np.array_equal(image, expected), label
    # The frames differ where the data do: impacts on 1 May, an empty map on 2 May, interceptions on 3 May.
    assert not np.array_equal(images[0], images[2]) and not np.array_equal(images[1], images[2])


def test_the_map_area_holds_the_animated_dates_not_every_date():
    """An event outside the animated dates is on no frame: it must not widen the map of every frame."""
    data = three_days()
    far = data.iloc[[0]].copy()
    far["event_id"] = pd.array(["FAR"], dtype="string")
    far["occurred_at"] = pd.to_datetime(["2024-06-20T10:00Z"])
    far["geometry"] = gpd.points_from_xy([39.5], [45.0], crs="EPSG:4326")
    with_far = gpd.GeoDataFrame(pd.concat([data, far], ignore_index=True), geometry="geometry", crs="EPSG:4326")
    state = FilterState(start=dt.date(2024, 5, 1), end=dt.date(2024, 5, 3))
    for renderer in ("figure", "scatter"):
        frames = [list(animation_images(frame, filter_state=state, step="1d", dpi=30, renderer=renderer,
                                        workers=1)[1]) for frame in (data, with_far)]
        assert len(frames[0]) == len(frames[1]) == 3
        for a, b in zip(*frames):
            assert np.array_equal(a, b), renderer
