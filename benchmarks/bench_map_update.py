"""Map update speed: from a filter change to N events drawn in the live page.

"update" is a filter change that shows N events (the page already holds the
file's rows; only a bit mask travels); "file opened" is the first push of a
newly opened file's N rows; "redraw" is one canvas redraw, the cost of a pan
or zoom step.

Compared, in the same run, with rebuilding the folium page with the events in it,
writing it and reloading it in the web view (what an app without the bridge
would do). The rebuilt page uses the same fast canvas layer, so the comparison
is conservative: a page of folium markers is slower still.

    python benchmarks/bench_map_update.py [--sizes 10000 100000] [--runs 5]

Runs headless (offscreen Qt platform). Prints one line per measurement.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu --no-sandbox")

from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QTimer, QUrl  # noqa: E402
from PySide6.QtWebEngineWidgets import QWebEngineView  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

TIMEOUT_MS = 120_000


def _wait(signal, accept=lambda *args: True, timeout_ms: int = TIMEOUT_MS) -> bool:
    """Run the event loop until ``signal`` fires with arguments ``accept`` likes."""
    loop = QEventLoop()
    hit: list[bool] = []

    def on_signal(*args) -> None:
        if accept(*args):
            hit.append(True)
            loop.quit()

    signal.connect(on_signal)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    signal.disconnect(on_signal)
    return bool(hit)


def _js(page, script: str, timeout_ms: int = TIMEOUT_MS):
    loop = QEventLoop()
    out: list = []
    page.runJavaScript(script, 0, lambda value: (out.append(value), loop.quit()))
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    return out[0] if out else None


def bench_update(view, state, frame, runs: int) -> list[float]:
    """Seconds from ``state.set_filter`` to the page reporting every event drawn."""
    from geodata.filters import FilterState

    n = len(frame)
    narrow = FilterState(outcomes={"impact"})
    times = []
    for _ in range(runs):
        state.set_filter(narrow)
        _wait(view.incidents_drawn, lambda count: count == int(narrow.mask(frame).sum()))
        start = time.perf_counter()
        state.set_filter(FilterState())
        if not _wait(view.incidents_drawn, lambda count: count == n):
            raise RuntimeError("the page never reported the events drawn")
        times.append(time.perf_counter() - start)
    return times


def bench_rebuild(view, frame, runs: int, folder: Path) -> list[float]:
    """Seconds to rebuild the page with the events inline, write it and reload it.

    ``view`` is a plain QWebEngineView (the app's map refuses to navigate away).
    """
    from mapviewer.map import page as mappage
    n = len(frame)
    times = []
    for run in range(runs):
        start = time.perf_counter()
        html = mappage.build_page(live=False, data=mappage.encode_incidents(frame, fit=False))
        path = folder / f"rebuilt-{run}.html"
        path.write_text(html, encoding="utf-8")
        view.page().load(QUrl.fromLocalFile(str(path)))
        if not _wait(view.loadFinished):
            raise RuntimeError("the rebuilt page did not load")
        count = _js(view.page(), "typeof mapviewer === 'object' ? mapviewer.count() : -1")
        if count != n:
            raise RuntimeError(f"the rebuilt page shows {count} events, not {n}")
        times.append(time.perf_counter() - start)
    return times


def redraw_ms(view, runs: int = 7) -> float:
    """Median time of one full canvas redraw (what every pan or zoom costs), in the page."""
    script = ("(function(){var t = [], l = mapviewer.state.layer; for (var i = 0; i < %d; i++) {"
              "var s = performance.now(); l.redraw(); t.push(performance.now() - s);}"
              "t.sort(function(a, b){return a - b;}); return t[Math.floor(t.length / 2)];})()" % runs)
    return float(_js(view.page(), script))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild-runs", type=int, default=3)
    args = parser.parse_args(argv)

    from mapviewer.map.tilescheme import register_scheme

    register_scheme()  # the page's URL schemes, before the QApplication
    _app = QApplication.instance() or QApplication(sys.argv[:1])  # must exist before any widget
    from geodata.report import LoadReport
    from geodata.sample import make_sample
    from mapviewer.map.view import MapView
    from mapviewer.state import AppState

    folder = Path(tempfile.mkdtemp(prefix="bench-map-"))
    print(f"{'events':>8}  {'update (median)':>16}  {'rebuild+reload (median)':>24}  {'speed-up':>8}  "
          f"{'redraw (pan/zoom)':>18}  {'file opened':>12}")
    for size in args.sizes:
        frame = make_sample(n=size)
        state = AppState()
        view = MapView(state)
        view.resize(1280, 800)
        view.show()
        if not _wait(view.ready):
            raise RuntimeError("the map page did not become ready")
        start = time.perf_counter()
        state.add_dataset("bench", frame, LoadReport(path="bench", format="sample"))
        _wait(view.incidents_drawn, lambda count: count == len(frame))
        first = time.perf_counter() - start  # the whole frame's arrays go to the page once
        update = statistics.median(bench_update(view, state, state.frame, args.runs))
        redraw = redraw_ms(view)
        plain = QWebEngineView()
        plain.resize(1280, 800)
        plain.show()
        rebuild = statistics.median(bench_rebuild(plain, state.frame, args.rebuild_runs, folder))
        plain.close()
        plain.deleteLater()
        print(f"{len(frame):>8}  {update * 1000:>13.0f} ms  {rebuild * 1000:>21.0f} ms  "
              f"{rebuild / update:>7.1f}x  {redraw:>15.0f} ms  {first * 1000:>9.0f} ms", flush=True)
        view.release()
        view.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return 0


if __name__ == "__main__":
    sys.exit(main())
