"""Animation export: the playback as a GIF or MP4, drawn with no window (Qt-free).

Frames are print figures (:class:`mapviewer.export.figure.FigureRenderer`: one page
whose basemap, labels, scale bar and north arrow are drawn once, the events,
legend and captions updated per frame), or plain scatters drawn here for quick
previews. The encoder is the ffmpeg binary shipped in the imageio-ffmpeg wheel
(no system ffmpeg needed), for GIF (a palette per frame) and MP4 alike: frames
stream to it one at a time, so memory does not grow with the frame count. The
file is written under a temporary name of its own and renamed when complete.
"""
from __future__ import annotations

import os
from collections import deque
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from geodata.errors import DataError
from geodata.filters import FilterState
from geodata.points import lon_lat
from geodata.style import OUTCOME_STYLE
from geodata.timeline import (
    TimelineIndex,
    date_range_ns,
    describe_window,
    frame_filter,
    parse_duration,
    playback_frames,
)

FORMATS = ("gif", "mp4")



def _page_inches(page: str) -> tuple[float, float]:
    """Page size for the plain renderer: the print figure's presets when installed, else A4 landscape."""
    try:
        from mapviewer.export.figure import page_size
    except ImportError:
        return 11.69, 8.27
    return page_size(page)


class AnimationCancelled(Exception):
    """The user cancelled the export; the partial file was removed, an earlier ``out`` kept."""


def _is_cancelled(cancel) -> bool:
    if cancel is None:
        return False
    if hasattr(cancel, "is_set"):
        return bool(cancel.is_set())
    return bool(cancel())


def animation_frames(frame: pd.DataFrame, filter_state: FilterState, *, step="1d", window=None,
                     cumulative: bool = False, skip_empty: bool = False
                     ) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The (start, end) windows of an animation: the filter's date range, else the span of its events."""
    index = TimelineIndex.from_frame(frame, filter_state.tz)
    times = index.event_times(filter_state.mask(frame, skip="date"))
    lo, hi = date_range_ns(filter_state)
    if (lo is None or hi is None) and not len(times):
        raise DataError("no events match the filters: nothing to animate")
    if lo is None:
        first = pd.Timestamp(int(times[0]), tz="UTC").tz_convert(filter_state.tz)
        if parse_duration(step) % pd.Timedelta(days=1) == pd.Timedelta(0):
            first = first.normalize()  # day steps start at local midnight
        lo = first.value
    if hi is None:
        hi = int(times[-1]) + 1  # exclusive: the last event is in the last frame
    start = pd.Timestamp(lo, tz="UTC")
    end = pd.Timestamp(hi, tz="UTC")
    return playback_frames(start, end, step, window=window, cumulative=cumulative, skip_empty=skip_empty,
                           times=times, tz=filter_state.tz)


class _ScatterRenderer:
    """A plain map-less scatter, one figure reused for every frame (offsets updated in place)."""

    def __init__(self, frame: pd.DataFrame, *, page: str, dpi: float,
                 extent: tuple[float, float, float, float] | None = None) -> None:
        from matplotlib.figure import Figure
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        width, height = _page_inches(page)
        self.figure = Figure(figsize=(width, height), dpi=dpi)
        FigureCanvasAgg(self.figure)
        self.axes = self.figure.add_subplot(1, 1, 1)
        x, y = lon_lat(frame)
        self.xy = np.column_stack([x, y])
        outcome = frame["outcome"].astype("string").fillna("unknown").to_numpy() if len(frame) else []
        self.colours = np.array([OUTCOME_STYLE.get(o, OUTCOME_STYLE["unknown"]).colour for o in outcome])
        self.scatter = self.axes.scatter([], [], s=12, edgecolors="none")
        if len(self.xy):
            finite = self.xy[np.isfinite(self.xy).all(axis=1)]
            if len(finite):
                (x0, y0), (x1, y1) = finite.min(axis=0), finite.max(axis=0)
                pad_x, pad_y = max(0.5, (x1 - x0) * 0.05), max(0.5, (y1 - y0) * 0.05)
                self.axes.set_xlim(x0 - pad_x, x1 + pad_x)
                self.axes.set_ylim(y0 - pad_y, y1 + pad_y)
        if extent is not None:
            self.axes.set_xlim(extent[0], extent[2])
            self.axes.set_ylim(extent[1], extent[3])
        self.axes.set_xlabel("Longitude")
        self.axes.set_ylabel("Latitude")
        for key, style in OUTCOME_STYLE.items():
            self.axes.scatter([], [], c=style.colour, s=12, label=style.label)
        self.axes.legend(loc="upper right", fontsize="small")
        # Titles and labels hold user text: a "$" is a dollar sign, never mathtext.
        self.title = self.figure.suptitle("", parse_math=False)
        self.caption = self.figure.text(0.01, 0.01, "", fontsize="small", parse_math=False)

    def draw(self, mask: np.ndarray, title: str, label: str) -> np.ndarray:
        self.scatter.set_offsets(self.xy[mask] if len(self.xy) else np.zeros((0, 2)))
        self.scatter.set_facecolors(self.colours[mask] if len(self.colours) else [])
        self.title.set_text(title)
        self.caption.set_text(f"{label} · {int(mask.sum())} events")
        self.figure.canvas.draw()
        return np.asarray(self.figure.canvas.buffer_rgba())[..., :3].copy()


class _FrameDrawer:
    """Print-figure frames of one animation: one page reused, same map extent and layout throughout."""

    def __init__(self, frame: pd.DataFrame, *, page: str, dpi: float,
                 extent: tuple[float, float, float, float], highlight: Iterable[str] = (),
                 tile_archives: Sequence = ()) -> None:
        from mapviewer.export.figure import FigureRenderer, legend_rows

        self.frame = frame  # the rows any frame can show: each frame only narrows the dates
        # Room for the largest legend any frame needs, so the map does not move on portrait pages.
        # Tile archives are stitched once here: every frame reuses the background.
        self.renderer = FigureRenderer(extent, page=page, dpi=dpi, highlight=highlight,
                                       legend_rows=legend_rows(frame), tile_archives=tile_archives)

    def draw(self, filter_state: FilterState, title: str, note: str) -> np.ndarray:
        from mapviewer.export.figure import select_rows

        self.renderer.draw(select_rows(self.frame, filter_state), filter_state, title=title, note=note)
        return self.renderer.rgb()


def _extent(frame: pd.DataFrame) -> tuple[float, float, float, float] | None:
    """Bounds of every event the animation can show, padded (None: let the renderer choose)."""
    if not len(frame):
        return None
    x, y = lon_lat(frame)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return None
    west, east, south, north = x[ok].min(), x[ok].max(), y[ok].min(), y[ok].max()
    pad_x = max((east - west) * 0.08, 0.45)  # a lone event still sits in its surroundings
    pad_y = max((north - south) * 0.08, 0.3)
    return (max(-180.0, west - pad_x), max(-90.0, south - pad_y), min(180.0, east + pad_x), min(90.0, north + pad_y))


def _even(image: np.ndarray, shape: tuple[int, int] | None) -> np.ndarray:
    """Pad (or crop) to one fixed, even size: H.264 needs even sides and every frame the same size."""
    height, width = shape if shape is not None else (image.shape[0] + image.shape[0] % 2,
                                                     image.shape[1] + image.shape[1] % 2)
    out = np.full((height, width, 3), 255, dtype=np.uint8)
    h, w = min(height, image.shape[0]), min(width, image.shape[1])
    out[:h, :w] = image[:h, :w]
    return out


_WORKER: _FrameDrawer | None = None


def _init_worker(frame: pd.DataFrame, page: str, dpi: float, extent, highlight, basemap_paths=()) -> None:
    global _WORKER
    from mapviewer.map.basemapfiles import open_archives

    # Open archives do not cross process boundaries: each worker opens the files itself.
    _WORKER = _FrameDrawer(frame, page=page, dpi=dpi, extent=extent, highlight=highlight,
                           tile_archives=open_archives(basemap_paths))


def _draw_in_worker(job: tuple[FilterState, str, str]) -> np.ndarray:
    return _WORKER.draw(*job)


def _parallel_images(jobs: list[tuple[FilterState, str, str]], frame: pd.DataFrame, *, page: str, dpi: float,
                     extent, highlight, workers: int, cancel, basemap_paths=()) -> Iterator[np.ndarray]:
    """Frames drawn by ``workers`` processes, yielded in order.

    A frame of the print figure is a few tenths of a second of single-core
    drawing (mostly text and basemap rasterising), and figures cannot be shared
    between threads, so long animations can be drawn in separate processes
    (spawned: safe from a GUI thread), each with its own reused page. At most
    two frames per worker are in flight, so memory stays small and a cancel
    takes effect quickly.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(frame, page, dpi, extent, highlight, tuple(basemap_paths))) as pool:
        pending = deque()
        queued = 0
        try:
            while queued < len(jobs) or pending:
                while queued < len(jobs) and len(pending) < 2 * workers and not _is_cancelled(cancel):
                    pending.append(pool.submit(_draw_in_worker, jobs[queued]))
                    queued += 1
                if not pending:
                    return
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def default_workers(frames: int) -> int:
    """Drawing processes worth starting for ``frames`` print-figure frames.

    Starting one costs a few seconds (imports, basemap), and one core is left
    for this process and the encoder: on a two-core machine frames are drawn here.
    """
    if frames < 24:
        return 1
    return max(1, min((os.cpu_count() or 1) - 1, 4, frames // 12))


def animation_images(frame: pd.DataFrame, *, filter_state: FilterState | None = None, step="1d", window=None,
                     cumulative: bool = False, title: str = "", page: str = "A4-landscape", dpi: float = 100,
                     skip_empty: bool = False, extent: tuple[float, float, float, float] | None = None,
                     renderer: str = "figure", workers: int | None = None, cancel=None,
                     tile_archives: Sequence = ()) -> tuple[int, Iterator[np.ndarray]]:
    """The frames of an animation as RGB images: (frame count, images in order).

    Options as for :func:`export_animation`. Each print-figure frame shows what
    :func:`mapviewer.export.figure.render_figure` draws for the frame's window with
    the same ``extent`` (on portrait pages the legend keeps the room the
    fullest frame needs, so the map does not move).
    """
    filter_state = filter_state or FilterState()
    windows = animation_frames(frame, filter_state, step=step, window=window, cumulative=cumulative,
                               skip_empty=skip_empty)
    if not windows:
        raise DataError("no events match the filters: nothing to animate")
    base = filter_state.mask(frame, skip="date")
    index = TimelineIndex.from_frame(frame, filter_state.tz)
    times = index.times
    # The map holds the events the animation shows: those inside its windows, not those of every date.
    animated = (base & index.valid & (times >= min(a.value for a, _ in windows))
                & (times < max(b.value for _, b in windows)))
    jobs = []
    for a, b in windows:
        label = describe_window(a, b, filter_state.tz)
        jobs.append((frame_filter(filter_state, a, b), f"{title or 'Strike events'} · {label}", label))
    if renderer == "scatter":
        scatter = _ScatterRenderer(frame, page=page, dpi=dpi,
                                   extent=extent if extent is not None else _extent(frame[animated]))
        # The same half-open windows the date filters describe, without re-filtering.
        return len(jobs), (scatter.draw(base & (times >= a.value) & (times < b.value), heading, label)
                           for (a, b), (_, heading, label) in zip(windows, jobs))
    if renderer != "figure":
        raise DataError(f"animation renderer must be figure or scatter, not {renderer!r}")
    from mapviewer.export.figure import select_rows

    # Every frame narrows these rows by date only: filter the rest once, not once per frame.
    rows = select_rows(frame[base])
    extent = extent if extent is not None else _extent(select_rows(frame[animated]))
    highlight = filter_state.admin1 or ()
    workers = default_workers(len(jobs)) if workers is None else max(1, workers)
    if workers > 1:
        return len(jobs), _parallel_images(jobs, rows, page=page, dpi=dpi, extent=extent, highlight=highlight,
                                           workers=workers, cancel=cancel,
                                           basemap_paths=[str(a.path) for a in tile_archives])
    drawer = _FrameDrawer(rows, page=page, dpi=dpi, extent=extent, highlight=highlight, tile_archives=tile_archives)
    return len(jobs), (drawer.draw(*job) for job in jobs)


def export_animation(frame: pd.DataFrame, out: str | os.PathLike, *, filter_state: FilterState | None = None,
                     step="1d", window=None, cumulative: bool = False, fmt: str | None = None,
                     title: str = "", page: str = "A4-landscape", dpi: float = 100, fps: float = 2.0,
                     skip_empty: bool = False, extent: tuple[float, float, float, float] | None = None,
                     renderer: str = "figure", workers: int | None = None,
                     progress: Callable[[int, int], None] | None = None, cancel=None,
                     tile_archives: Sequence = ()) -> int:
    """Write the playback of ``frame`` under ``filter_state`` as a GIF or MP4; return the frame count.

    Frames step through the filter's date range (or the span of the events it
    keeps) by ``step``; each shows a moving ``window`` (e.g. ``"7d"``), the
    step itself, or everything since the start when ``cumulative``. ``fmt`` is
    ``"gif"`` or ``"mp4"`` (default: from the file suffix). ``extent`` (west,
    south, east, north in degrees) fixes the map area; by default it holds every
    event the frames show (those of the animated dates, not of every date).
    ``progress(done, total)`` is called after each frame; ``cancel`` (a
    callable or an event) stops the export, leaves any earlier file at ``out``
    untouched and raises :class:`AnimationCancelled`.
    Bad options raise :class:`DataError`.

    Frames are print figures drawn on one reused page (see
    :func:`animation_images`), in ``workers`` processes (default:
    :func:`default_workers`). ``renderer="scatter"`` draws plain, map-less
    frames (fast previews). ``tile_archives`` (open :class:`geodata.tiles.TileArchive` objects)
    are drawn under the events of print-figure frames, stitched once for all frames.
    """
    out = Path(out)
    fmt = (fmt or out.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise DataError(f"{out}: animation format must be gif or mp4, not {fmt or 'nothing'!r}")
    if fps <= 0:
        raise DataError(f"frames per second must be positive: {fps}")
    total, images = animation_images(frame, filter_state=filter_state, step=step, window=window,
                                     cumulative=cumulative, title=title, page=page, dpi=dpi, skip_empty=skip_empty,
                                     extent=extent, renderer=renderer, workers=workers, cancel=cancel,
                                     tile_archives=tile_archives)
    from geodata.writers import atomic_path

    shape = None
    done = 0
    try:
        # A temporary name of its own beside ``out`` (two exports to one name never share it), renamed
        # onto ``out`` only once complete; removed on any failure, cancel, Ctrl+C or SIGTERM.
        with atomic_path(out) as tmp:
            encoder = None
            try:
                for image in images:
                    if _is_cancelled(cancel):
                        raise AnimationCancelled(str(out))
                    image = _even(image, shape)
                    if encoder is None:
                        shape = image.shape[:2]
                        encoder = _Encoder(tmp, fmt, fps, (shape[1], shape[0]), out)
                    encoder.write(image)
                    done += 1
                    if progress is not None:
                        progress(done, total)
                if done < total or encoder is None:  # the parallel drawing stopped early: it was cancelled
                    raise AnimationCancelled(str(out))
                encoder.close()
            finally:
                if encoder is not None:
                    encoder.abort()  # after close() nothing; after a failure ffmpeg stops before its file goes
    finally:
        close = getattr(images, "close", None)
        if close is not None:
            close()
    return done


#: GIF: a palette made for each frame (256 colours of its own), without dithering; ffmpeg streams
#: (one frame in memory), where Pillow's GIF writer keeps every frame until the file is closed.
_GIF_FILTER = "split[a][b];[a]palettegen=stats_mode=single[p];[b][p]paletteuse=new=1:dither=none"


class _Encoder:
    """ffmpeg (the binary in the imageio-ffmpeg wheel) fed raw RGB frames, writing a GIF or an MP4 at ``path``.

    Its messages are collected, not printed: a failure becomes one line (a full
    disk an ``OSError(ENOSPC)``, which :func:`geodata.writers.atomic_path` words
    as "disk full while writing OUT"); the exit status is checked, so a file
    ffmpeg could not finish is never taken for a finished one.
    """

    def __init__(self, path: str, fmt: str, fps: float, size: tuple[int, int], out: Path) -> None:
        import subprocess
        import tempfile

        import imageio_ffmpeg

        self.out = out
        if fmt == "gif":
            codec = ["-filter_complex", _GIF_FILTER, "-vcodec", "gif", "-loop", "0", "-f", "gif"]
        else:
            # "veryfast": the encoder shares the cores with the drawing; about 2.4 times less work
            # than x264's default for files about 5 % larger at the same quality setting.
            codec = ["-vcodec", "libx264", "-pix_fmt", "yuv420p", "-crf", "15", "-preset", "veryfast", "-f", "mp4"]
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
                   "-f", "rawvideo", "-vcodec", "rawvideo", "-s", f"{size[0]}x{size[1]}", "-pix_fmt", "rgb24",
                   "-r", f"{fps:g}", "-i", "-", "-an", *codec,
                   # absolute: ffmpeg never reads a name such as "http:x.mp4" as a protocol
                   os.path.abspath(path)]
        self._messages = tempfile.TemporaryFile()
        # In a session (process group) of its own: Ctrl+C in the terminal reaches this process,
        # which stops ffmpeg itself and removes the partial file.
        options = ({"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW}
                   if os.name == "nt" else {"start_new_session": True})
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                         stderr=self._messages, **options)

    def write(self, image: np.ndarray) -> None:
        try:
            self._process.stdin.write(np.ascontiguousarray(image, dtype=np.uint8).data)
        except OSError:  # ffmpeg stopped (BrokenPipeError): its own messages say why
            self._failed()

    def close(self) -> None:
        try:
            self._process.stdin.close()
        except OSError:
            self._failed()
        if self._process.wait() != 0:
            self._failed()
        self._messages.close()

    def abort(self) -> None:
        """Stop ffmpeg if it still runs (after a failure or an interruption)."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        for stream in (self._process.stdin, self._messages):
            try:
                stream.close()
            except OSError:
                pass

    def _failed(self):
        import errno

        try:
            self._process.wait(timeout=30)
        except Exception:  # noqa: BLE001 - it hangs: stop it, the messages so far will do
            self.abort()
        self._messages.seek(0)
        text = self._messages.read().decode("utf-8", "replace")
        if "No space left on device" in text or "Disk quota exceeded" in text:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.out))
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        detail = lines[-1] if lines else f"exit status {self._process.returncode}"
        raise DataError(f"{self.out}: the video encoder (ffmpeg) failed: {detail}")
