"""A saved view copied on its own (to a desktop, a mail) still finds data that stayed put."""
from __future__ import annotations

import shutil

from geodata import FilterState
from mapviewer.files.views import ViewSpec, load_view, save_view


def test_a_view_file_copied_elsewhere_still_opens_its_data(tmp_path):
    data = tmp_path / "archive" / "incidents.csv"
    data.parent.mkdir()
    data.write_text("x", encoding="utf-8")
    spec = ViewSpec(data=(str(data),), filter=FilterState(munitions={"KN-23"}), center=(50.45, 30.52), zoom=9.0)
    saved = tmp_path / "views" / "brief.json"
    saved.parent.mkdir()
    save_view(saved, spec)
    copied = tmp_path / "colleague" / "desktop" / "brief.json"
    copied.parent.mkdir(parents=True)
    shutil.copy(saved, copied)
    # "../archive/incidents.csv" from the copy points nowhere; the path as saved still holds the file.
    assert load_view(copied) == spec
