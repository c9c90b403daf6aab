"""``mapviewer export --merge-reports``: one row per strike with the list of its reports, and
figures and maps that say "N strikes from M reports"."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from tests.mapviewer.test_figure import svg_texts
from tests.factories import run_export_cli

HEADER = "event_id,occurred_at,time_precision,latitude,longitude,location,admin1,geo_precision,munition,outcome," \
         "killed,source,source_url\n"
# One strike on Kharkiv told by all three sources: at 03:40 by one, dated to the day by another,
# placed only at the town by the third. Each source also has a strike of its own.
SOURCES = {
    "cir.csv": [
        "CIR-1,2025-06-02T03:40:00+03:00,exact,50.0000,36.2300,Kharkiv,Kharkivska oblast,exact,KN-23,impact,2,"
        "CIR monitor,https://example.org/cir/1",
        "CIR-2,2025-06-05T22:10:00+03:00,exact,46.4825,30.7233,Odesa,Odeska oblast,exact,Shahed-136,intercepted,,"
        "CIR monitor,https://example.org/cir/2",
    ],
    "bellingcat.csv": [
        "BC-1,2025-06-02,day,50.0020,36.2330,Kharkiv,Kharkivska oblast,exact,ballistic missile,impact,4,"
        "Bellingcat,https://example.org/bc/1",
        "BC-2,2025-06-10,day,49.8400,24.0300,Lviv,Lvivska oblast,exact,Kh-101,impact,0,Bellingcat,",
    ],
    "acled.csv": [
        "AC-1,2025-06-02,day,49.9935,36.2304,Kharkiv,Kharkivska oblast,settlement,missile,impact,3,ACLED,",
        "AC-2,2025-06-20,day,48.4600,35.0400,Dnipro,Dnipropetrovska oblast,settlement,drone,impact,1,ACLED,",
    ],
}


def write_sources(folder: Path) -> list[Path]:
    """The three sources as CSV files in ``folder`` (cir.csv, bellingcat.csv, acled.csv)."""
    paths = []
    for name, rows in SOURCES.items():
        path = Path(folder) / name
        path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> list[Path]:
    return write_sources(tmp_path_factory.mktemp("sources"))


run = run_export_cli


def test_csv_has_one_row_per_strike_with_its_reports(sources, tmp_path, capsys):
    out = tmp_path / "strikes.csv"
    code, stdout, stderr = run([*sources, "--merge-reports", "-o", out], capsys)
    assert code == 0, stderr
    assert "4 strikes from 6 reports" in stdout
    rows = pd.read_csv(out, encoding="utf-8-sig")
    assert len(rows) == 4
    kharkiv = rows.loc[rows["reports"] == 3].iloc[0]
    assert kharkiv["report_ids"] == "cir.csv:CIR-1; bellingcat.csv:BC-1; acled.csv:AC-1"
    assert kharkiv["sources"] == "cir.csv; bellingcat.csv; acled.csv"
    assert (kharkiv["killed_min"], kharkiv["killed_max"]) == (2, 4)
    # the strike's most precise time, place and munition
    assert kharkiv["occurred_at"].startswith("2025-06-02T03:40") and kharkiv["munition"] == "KN-23"
    assert (kharkiv["latitude"], kharkiv["longitude"]) == pytest.approx((50.0, 36.23))
    assert sorted(rows["reports"]) == [1, 1, 1, 3]
    # without the option: every report, as before
    plain = tmp_path / "reports.csv"
    assert run([*sources, "-o", plain], capsys)[0] == 0
    assert len(pd.read_csv(plain, encoding="utf-8-sig")) == 6


def test_filters_choose_strikes(sources, tmp_path, capsys):
    out = tmp_path / "kn23.geojson"
    # the strike is a KN-23 strike although two of its reports name no such munition
    code, stdout, stderr = run([*sources, "--merge-reports", "--munition", "KN-23", "-o", out], capsys)
    assert code == 0, stderr
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert [f["properties"]["reports"] for f in features] == [3]
    # a day: the strike counts on the day of its most precise time, once
    day = tmp_path / "day.csv"
    assert run([*sources, "--merge-reports", "--from", "2025-06-02", "--to", "2025-06-02", "-o", day], capsys)[0] == 0
    assert pd.read_csv(day, encoding="utf-8-sig")["report_ids"].tolist() == [
        "cir.csv:CIR-1; bellingcat.csv:BC-1; acled.csv:AC-1"]


def test_figure_says_strikes_from_reports(sources, tmp_path, capsys):
    out = tmp_path / "strikes.svg"
    code, stdout, stderr = run([*sources, "--merge-reports", "--title", "June", "--dpi", "50", "-o", out], capsys)
    assert code == 0, stderr
    texts = svg_texts(out)
    assert any("4 strikes from 6 reports" in t for t in texts)
    assert "4 strikes shown" in texts
    plain = tmp_path / "reports.svg"
    assert run([*sources, "--title", "June", "--dpi", "50", "-o", plain], capsys)[0] == 0
    assert not any("strikes" in t for t in svg_texts(plain)) and "6 events shown" in svg_texts(plain)


def test_html_heading_says_strikes_from_reports(sources, tmp_path, capsys):
    out = tmp_path / "strikes.html"
    code, stdout, stderr = run([*sources, "--merge-reports", "-o", out], capsys)
    assert code == 0, stderr
    assert "map of 4 strikes from 6 reports" in stdout
    page = out.read_text(encoding="utf-8")
    heading = re.search(r'"heading":(\{[^}]*\})', page)
    assert heading is not None and json.loads(heading.group(1))["subtitle"] == "4 strikes from 6 reports"
    assert "bellingcat.csv: BC-1" in page  # each strike's popup names its reports (and lists them in full)


#: Markup and template syntax in a report's text: shown as written, never run or evaluated.
HOSTILE = "<script>window.__pwned=1</script> {{7*7}} ${7*7}"


def page_details(page: str) -> dict[str, list]:
    """The popup details an exported page embeds (the last argument of ``mapviewer.init``)."""
    start = page.index("mapviewer.init(")
    start = page.index("}, ", page.index("oblasts:", start)) + 3  # after the basemap layers' names
    decoder = json.JSONDecoder()
    values = []
    for _ in range(3):  # config, data, details
        value, end = decoder.raw_decode(page, start)
        values.append(value)
        start = end + 2  # ", "
    return values[2]


def reports_entry(fields: list) -> list[dict[str, str]]:
    """The reports a strike's popup lists, each as {label: text}."""
    label, _summary, reports = fields[-1]
    assert label == "Reports"
    return [dict(pairs) for pairs in reports]


def test_html_popups_list_every_report_of_a_strike(tmp_path, capsys):
    paths = write_sources(tmp_path)
    acled = paths[2]
    acled.write_text(acled.read_text(encoding="utf-8").replace("3,ACLED,", f'3,"{HOSTILE}",'), encoding="utf-8")
    out = tmp_path / "strikes.html"
    code, stdout, stderr = run([*paths, "--merge-reports", "-o", out], capsys)
    assert code == 0, stderr
    page = out.read_text(encoding="utf-8")
    details = page_details(page)
    assert len(details) == 4
    (kharkiv,) = [reports_entry(f) for f in details.values() if len(reports_entry(f)) == 3]
    assert [r["Report"] for r in kharkiv] == ["cir.csv: CIR-1", "bellingcat.csv: BC-1", "acled.csv: AC-1"]
    cir, bellingcat, acled_report = kharkiv
    assert cir["Source"] == "CIR monitor" and cir["Link"] == "https://example.org/cir/1"
    assert cir["Time (Kyiv)"] == "2025-06-02 03:40" and bellingcat["Time (Kyiv)"] == "2025-06-02 (day only)"
    assert cir["Place"] == "Kharkiv, Kharkivska oblast (exact point)"
    assert acled_report["Place"] == "Kharkiv, Kharkivska oblast (settlement only)"
    assert [r["Munition as written"] for r in kharkiv] == ["KN-23", "ballistic missile", "missile"]
    assert [r["Killed"] for r in kharkiv] == ["2", "4", "3"]
    # hostile text is the report's text, verbatim, and never markup or template source in the page
    assert acled_report["Source"] == HOSTILE
    assert "<script>window.__pwned" not in page and "{{7*7}}" in page


def test_match_and_export_apply_the_decisions_the_app_keeps_beside_the_files(tmp_path, capsys):
    from geodata.match import Decisions
    from mapviewer.cli.match import run_match

    paths = write_sources(tmp_path)
    decisions = Decisions()
    decisions.split(("acled.csv", "AC-1"), [("cir.csv", "CIR-1"), ("bellingcat.csv", "BC-1")])
    decisions.split(("acled.csv", "AC-9"), [("cir.csv", "CIR-1")])  # a report no longer in acled.csv
    decisions.save(tmp_path / "strike-matches.json")
    out = tmp_path / "strikes.csv"
    code, stdout, stderr = run([*paths, "--merge-reports", "-o", out], capsys)
    assert code == 0, stderr
    assert "5 strikes from 6 reports" in stdout and "acled.csv:AC-9" in stderr
    assert sorted(pd.read_csv(out, encoding="utf-8-sig")["reports"]) == [1, 1, 1, 1, 2]
    assert run_match([*map(str, paths), "--json"]) == 0
    printed = capsys.readouterr()
    assert json.loads(printed.out)["events"] == 5 and "acled.csv:AC-9" in printed.err
