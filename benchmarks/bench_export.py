"""Exports under load: GIF memory by frame count, and figure time by title length.

Run: ``python benchmarks/bench_export.py [--frames 20 200] [--titles 300 8000]``.

GIF: a few print-figure frames of the shipped sample (A4 landscape, 100 dpi,
1169 x 827 pixels) are drawn once and repeated to each frame count, then
exported in a fresh process; printed are the peak memory of that process and
of the encoder (ffmpeg), the time and the file size. Frames stream to the
encoder, so the peak should not grow with the frame count.

Titles: the print figure of the sample at 100 dpi with titles of each length
(longer ones are cut to ``TITLE_MAX`` characters, as the CLI and views do).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_EXPORT = """
import resource, sys, time
import numpy as np
from mapviewer.export import animation

frames = np.load(sys.argv[1])
n = int(sys.argv[2])
animation.animation_images = lambda *args, **kwargs: (n, (frames[i % len(frames)] for i in range(n)))
start = time.perf_counter()
animation.export_animation(None, sys.argv[3], fps=2)
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _sample():
    import geodata
    from geodata.sample import sample_path

    return geodata.read_incidents(str(sample_path())).frame


def gif_memory(counts: list[int], folder: Path) -> None:
    import itertools

    import numpy as np

    from geodata import FilterState
    from mapviewer.export.animation import animation_images

    _, images = animation_images(_sample(), filter_state=FilterState(), step="1d", dpi=100, workers=1)
    drawn = folder / "frames.npy"
    np.save(drawn, np.stack(list(itertools.islice(images, 12))))
    print("GIF, A4 landscape at 100 dpi (12 distinct print-figure frames, repeated)")
    for count in counts:
        out = folder / f"{count}.gif"
        done = subprocess.run([sys.executable, "-c", _EXPORT, str(drawn), str(count), str(out)],
                              capture_output=True, text=True, check=True)
        seconds, own_kb, encoder_kb = done.stdout.split()
        print(f"  {count:5d} frames: {float(seconds):6.1f} s, peak memory {int(own_kb) / 1024:7.0f} MB "
              f"(encoder {int(encoder_kb) / 1024:5.0f} MB), {out.stat().st_size / 1e6:6.1f} MB file")


def title_time(lengths: list[int], folder: Path) -> None:
    from mapviewer.export.figure import cap_title, render_figure

    frame = _sample()
    render_figure(frame, dpi=100, out=folder / "warm.png")  # basemap and place names cached
    words = "Нічна атака на Київ: балістичні ракети KN-23 та ударні дрони "
    print("Print figure of the sample, A4 landscape at 100 dpi, PNG")
    for length in lengths:
        title, _ = cap_title((words * (length // len(words) + 1))[:length])
        start = time.perf_counter()
        render_figure(frame, title=title, dpi=100, out=folder / "title.png")
        print(f"  title of {length:6,} characters: {time.perf_counter() - start:5.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, nargs="*", default=[20, 200])
    parser.add_argument("--titles", type=int, nargs="*", default=[300, 8000])
    args = parser.parse_args()
    if os.name == "nt":
        print("the memory figures need the resource module (POSIX)")
        return 1
    with tempfile.TemporaryDirectory() as folder:
        gif_memory(args.frames, Path(folder))
        title_time(args.titles, Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
