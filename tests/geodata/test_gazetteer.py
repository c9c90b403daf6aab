"""Offline place-name resolution: aliases, oblast forms, compounds, lists, launch areas."""
from __future__ import annotations

import pytest
from shapely.geometry import Point

from geodata import gazetteer
from geodata.gazetteer import Place, resolve_parts, resolve_place


def _check(text: str, kind: str, name: str, admin1_code: str | None = None) -> Place:
    place = resolve_place(text)
    assert place is not None, text
    assert (place.kind, place.name) == (kind, name), text
    if admin1_code is not None:
        assert place.admin1_code == admin1_code, text
    return place


@pytest.mark.parametrize(
    "text,name,admin1_code",
    [
        ("Kyiv", "Kyiv", "UA-30"),
        ("Kiev", "Kyiv", "UA-30"),
        ("Київ", "Kyiv", "UA-30"),
        ("Киев", "Kyiv", "UA-30"),
        ("KYIV", "Kyiv", "UA-30"),
        ("Odesa", "Odesa", "UA-51"),
        ("Odessa", "Odesa", "UA-51"),
        ("Одеса", "Odesa", "UA-51"),
        ("Zaporizhzhia", "Zaporizhzhia", "UA-23"),
        ("Zaporizhzhya", "Zaporizhzhia", "UA-23"),
        ("Zaporozhye", "Zaporizhzhia", "UA-23"),
        ("Dnipro", "Dnipro", "UA-12"),
        ("Dnipropetrovsk", "Dnipro", "UA-12"),
        ("Дніпро", "Dnipro", "UA-12"),
        ("Bakhmut", "Bakhmut", "UA-14"),
        ("Artemivsk", "Bakhmut", "UA-14"),
        ("Artemovsk", "Bakhmut", "UA-14"),
        ("Kharkiv", "Kharkiv", "UA-63"),
        ("Kharkov", "Kharkiv", "UA-63"),
        ("Харків", "Kharkiv", "UA-63"),
        ("Mykolaiv", "Mykolaiv", "UA-48"),
        ("Nikolaev", "Mykolaiv", "UA-48"),
        ("Lviv", "Lviv", "UA-46"),
        ("Lvov", "Lviv", "UA-46"),
        ("Simferopol", "Simferopol", "UA-43"),
        ("Sevastopol", "Sevastopol", "UA-40"),
        ("Kirovohrad", "Kropyvnytskyi", "UA-35"),
        ("Ivano Frankivsk", "Ivano-Frankivsk", "UA-26"),
        ("  odesa ", "Odesa", "UA-51"),
    ],
)
def test_settlement_aliases(text, name, admin1_code):
    place = _check(text, "settlement", name, admin1_code)
    assert place.geo_precision == "settlement"
    assert place.geometry is None


def test_settlement_carries_oblast_name_and_point():
    place = resolve_place("Kryvyi Rih")
    assert place is not None and place.kind == "settlement" and place.admin1_code == "UA-12"
    assert place.name.startswith("Kryvy")  # GeoNames spells it "Kryvyy Rih"
    assert place.admin1 == "Dnipropetrovsk Oblast"
    assert place.lat == pytest.approx(47.91, abs=0.05) and place.lon == pytest.approx(33.39, abs=0.05)


@pytest.mark.parametrize(
    "text",
    ["Kyiv oblast", "Kyiv Oblast", "Kyivska oblast", "Київська область", "Kyiv region", "Kiev region",
     "Kyiv obl.", "Киевская область", "Kyivshchyna", "Kyiv province"],
)
def test_kyiv_oblast_forms(text):
    place = _check(text, "oblast", "Kyiv Oblast", "UA-32")
    assert place.geo_precision == "region"
    assert place.admin1 == "Kyiv Oblast"
    assert place.geometry is not None and place.geometry.contains(Point(place.lon, place.lat))
    # Kyiv city is its own unit, not part of the oblast polygon
    assert not place.geometry.contains(Point(30.5238, 50.4547))


@pytest.mark.parametrize(
    "text,code",
    [
        ("Dnipropetrovsk oblast", "UA-12"),
        ("Dnipropetrovska oblast", "UA-12"),
        ("Дніпропетровська область", "UA-12"),
        ("Odesa oblast", "UA-51"),
        ("Odessa region", "UA-51"),
        ("Одеська область", "UA-51"),
        ("Zaporizhzhia oblast", "UA-23"),
        ("Zaporizhzhya oblast", "UA-23"),
        ("Zaporozhye region", "UA-23"),
        ("Nikolaev oblast", "UA-48"),
        ("Mykolaivska oblast", "UA-48"),
        ("Kharkiv oblast", "UA-63"),
        ("Харьковская область", "UA-63"),
        ("Kirovohrad oblast", "UA-35"),
        ("Kirovograd region", "UA-35"),
        ("Zakarpattia", "UA-21"),
        ("Volyn", "UA-07"),
        ("Crimea", "UA-43"),
        ("Крим", "UA-43"),
        ("Kyiv City", "UA-30"),
        ("occupied Donetsk oblast", "UA-14"),
        ("Luhansk oblast", "UA-09"),
    ],
)
def test_oblast_names(text, code):
    place = resolve_place(text)
    assert place is not None and place.kind == "oblast", text
    assert place.admin1_code == code
    assert place.geo_precision == "region"
    assert place.geometry.contains(Point(place.lon, place.lat))


def test_compound_resolves_to_most_specific_part():
    place = resolve_place("Dnipropetrovsk oblast, Kryvyi Rih Raion")
    assert place is not None and place.kind == "raion"
    assert place.name.startswith("Kryvy") and place.name.endswith("Raion")
    assert place.admin1_code == "UA-12" and place.geo_precision == "region"
    # the raion's point lies in its oblast
    oblast = resolve_place("Dnipropetrovsk oblast")
    assert oblast.geometry.contains(Point(place.lon, place.lat))
    # order and wording do not matter
    assert resolve_place("Kryvyi Rih district, Dnipropetrovsk region") == place


def test_compound_narrows_an_ambiguous_village():
    assert resolve_place("Mykolaivka") is None  # dozens of villages share the name
    place = resolve_place("Mykolaivka, Donetsk oblast")
    assert place is not None and place.kind == "settlement" and place.admin1_code == "UA-14"
    assert _check("Brovary, Kyiv oblast", "settlement", "Brovary", "UA-32")
    assert _check("Kyiv, Ukraine", "settlement", "Kyiv", "UA-30")


def test_contradicting_compound_is_not_guessed():
    assert resolve_place("Kryvyi Rih, Kharkiv oblast") is None
    assert resolve_place("Kyiv, Odesa") is None  # two places, not one


def test_compound_with_unknown_part_keeps_known_part_and_reports_the_rest():
    place = resolve_place("Donetsk oblast, Nowhereville hromada")
    assert place is not None and place.kind == "oblast" and place.admin1_code == "UA-14"
    parts = resolve_parts("Donetsk oblast, Nowhereville hromada")
    assert ("Nowhereville hromada", None) in parts


@pytest.mark.parametrize(
    "text,name,members",
    [
        ("north", "North", {"UA-74", "UA-59", "UA-32"}),
        ("South", "South", {"UA-51", "UA-48", "UA-65"}),
        ("east", "East", {"UA-63", "UA-14", "UA-09"}),
        ("west", "West", {"UA-46", "UA-07"}),
        ("centre", "Centre", {"UA-71", "UA-53"}),
        ("center", "Centre", {"UA-71", "UA-53"}),
        ("південь", "South", {"UA-51"}),
        ("northern regions", "North", {"UA-74"}),
    ],
)
def test_macro_regions(text, name, members):
    from geodata import basemap

    place = _check(text, "macro-region", name)
    assert place.geo_precision == "region" and place.admin1 is None
    assert members <= set(place.members)
    assert place.geometry is not None and place.geometry.contains(Point(place.lon, place.lat))
    obl = basemap.oblasts().set_index("iso_code").geometry
    for code in members:
        assert place.geometry.contains(obl[code].representative_point()), code


def test_macro_regions_do_not_overlap():
    from geodata import basemap

    regions = [resolve_place(t) for t in ("north", "south", "east", "west", "centre")]
    codes = [c for r in regions for c in r.members]
    assert sorted(codes) == sorted(basemap.oblasts()["iso_code"])  # each unit in one region
    union_area = sum(r.geometry.area for r in regions)
    outline = basemap.ukraine_outline()
    assert union_area == pytest.approx(outline.area, rel=1e-3)


@pytest.mark.parametrize(
    "text,name,lat,lon",
    [
        ("Kursk", "Kursk", 51.7, 36.2),
        ("Kursk oblast", "Kursk", 51.7, 36.2),
        ("Курська область", "Kursk", 51.7, 36.2),
        ("Bryansk", "Bryansk", 53.2, 34.4),
        ("Oryol", "Oryol", 53.0, 36.1),
        ("Orel", "Oryol", 53.0, 36.1),
        ("Millerovo", "Millerovo", 48.9, 40.4),
        ("Primorsko-Akhtarsk", "Primorsko-Akhtarsk", 46.0, 38.2),
        ("Cape Chauda", "Cape Chauda", 45.0, 35.8),
        ("Black Sea", "Black Sea", 43.4, 34.0),
        ("Caspian Sea", "Caspian Sea", 42.0, 50.5),
        ("Engels", "Engels", 51.5, 46.2),
        ("Shaykovka", "Shaykovka", 54.2, 34.4),
        ("Volgodonsk", "Volgodonsk", 47.5, 42.2),
        ("Olenya", "Olenya", 68.2, 33.5),
    ],
)
def test_launch_areas(text, name, lat, lon):
    place = _check(text, "launch-area", name)
    assert place.lat == pytest.approx(lat, abs=0.2) and place.lon == pytest.approx(lon, abs=0.2)


def test_cape_chauda_is_in_crimea():
    place = resolve_place("Cape Chauda")
    assert place.admin1_code == "UA-43"


def test_countries():
    ukraine = _check("Ukraine", "country", "Ukraine")
    assert ukraine.geometry.contains(Point(34.1, 44.95))  # Crimea
    assert ukraine.geometry.contains(Point(ukraine.lon, ukraine.lat))
    assert _check("Україна", "country", "Ukraine")
    assert _check("Belarus", "country", "Belarus")
    assert _check("Russia", "country", "Russia")


def _resolved(text: str) -> list[Place]:
    """The places of a list that resolve (unknown items left out)."""
    return [p for _, p in resolve_parts(text) if p is not None]


def test_lists_joined_by_and_or_commas():
    assert [p.name for p in _resolved("Kursk and Bryansk")] == ["Kursk", "Bryansk"]
    assert [p.name for p in _resolved("Kursk, Oryol and Bryansk")] == ["Kursk", "Oryol", "Bryansk"]
    assert [p.name for p in _resolved("Millerovo and Primorsko-Akhtarsk")] == [
        "Millerovo", "Primorsko-Akhtarsk"]
    assert [p.name for p in _resolved("Kyiv and Odesa")] == ["Kyiv", "Odesa"]
    assert [p.admin1_code for p in _resolved("Kharkiv and Sumy oblasts")] == ["UA-63", "UA-59"]
    # a compound inside a list stays one place
    places = _resolved("Kyiv oblast and Dnipropetrovsk oblast, Kryvyi Rih Raion")
    assert [p.kind for p in places] == ["oblast", "raion"]
    # several places are not one place
    assert resolve_place("Kursk and Bryansk") is None


def test_list_reports_unknown_items():
    parts = resolve_parts("Kursk and Atlantis")
    assert [(t, p.name if p else None) for t, p in parts] == [("Kursk", "Kursk"), ("Atlantis", None)]
    assert [p.name for p in _resolved("Kursk and Atlantis")] == ["Kursk"]


@pytest.mark.parametrize(
    "text",
    ["", "   ", "Atlantis", "Foo oblast", "Tu-95MS", "unknown", "12345", "Nowhere Raion", "Kyivv oblastt"],
)
def test_unknown_text_gives_none(text):
    assert resolve_place(text) is None
    assert _resolved(text) == []


def test_ambiguous_raion_needs_its_oblast():
    # "Dnipro Raion" exists in Kyiv city and in Dnipropetrovsk oblast
    assert resolve_place("Dnipro Raion") is None
    place = resolve_place("Dnipro raion, Dnipropetrovsk oblast")
    assert place is not None and place.kind == "raion" and place.admin1_code == "UA-12"


def test_place_kinds_are_the_documented_ones():
    assert set(gazetteer.KINDS) == {"oblast", "raion", "settlement", "macro-region", "launch-area", "country"}
    texts = ["Kyiv", "Kyiv oblast", "north", "Kursk", "Ukraine", "Dnipropetrovsk oblast, Kryvyi Rih Raion"]
    assert {resolve_place(t).kind for t in texts} == set(gazetteer.KINDS)


def test_tables_cached_on_disk():
    resolve_place("Kyiv")
    assert gazetteer._cache_path().is_file()


def _codes(text: str, **options) -> list[str | None]:
    return [p.admin1_code if p else None for _, p in resolve_parts(text, **options)]


@pytest.mark.parametrize(
    "text,codes",
    [
        ("Kharkiv, Sumy, Chernihiv oblasts", ["UA-63", "UA-59", "UA-74"]),
        ("Kharkiv, Sumy and Chernihiv oblasts", ["UA-63", "UA-59", "UA-74"]),
        ("Kharkiv, Sumy and Chernihiv regions", ["UA-63", "UA-59", "UA-74"]),
        ("Харківської, Сумської та Чернігівської областей", ["UA-63", "UA-59", "UA-74"]),
        ("Харьковской и Сумской областей", ["UA-63", "UA-59"]),
        ("Харківська та Сумська області", ["UA-63", "UA-59"]),
        # the plural belongs to its own list only, up to a ";"
        ("Kyiv; Kyiv, Chernihiv and Zhytomyr oblasts", ["UA-30", "UA-32", "UA-74", "UA-18"]),
    ],
)
def test_a_trailing_plural_applies_to_every_item_of_the_list(text, codes):
    assert _codes(text) == codes
    # every item of the plural list is an oblast (Kyiv before the ";" stays the city)
    assert all(place.kind == "oblast" for part, place in resolve_parts(text) if part != "Kyiv")


@pytest.mark.parametrize(
    "text,name,members",
    [
        ("south-east", "South-East", {"UA-12", "UA-23", "UA-14"}),
        ("southeast", "South-East", {"UA-12", "UA-23", "UA-14"}),
        ("north-east", "North-East", {"UA-74", "UA-59", "UA-63"}),
        ("south-west", "South-West", {"UA-51", "UA-05"}),
        ("north-west", "North-West", {"UA-07", "UA-56"}),
        ("південний схід", "South-East", {"UA-23"}),
        ("северо-восток", "North-East", {"UA-63"}),
        ("north-western regions", "North-West", {"UA-07"}),
    ],
)
def test_compass_macro_regions(text, name, members):
    place = _check(text, "macro-region", name)
    assert members <= set(place.members)
    assert place.geometry is not None and place.geometry.contains(Point(place.lon, place.lat))


@pytest.mark.parametrize(
    "text,settlement,code",
    [("Vinnitsa", "Vinnytsia", "UA-05"), ("Khmelnitsky", "Khmelnytskyi", "UA-68"),
     ("Khmelnitskiy", "Khmelnytskyi", "UA-68"), ("Vinnytsia", "Vinnytsia", "UA-05"), ("Kharkiv", "Kharkiv", "UA-63")],
)
def test_a_bare_name_is_the_city_for_an_event_and_the_oblast_in_a_target_list(text, settlement, code):
    # as the location of an event: the city, whichever spelling
    _check(text, "settlement", settlement, code)
    assert [(p.kind, p.admin1_code) for _, p in resolve_parts(text)] == [("settlement", code)]
    # in a target list of an attack report: the oblast
    assert [(p.kind, p.admin1_code) for _, p in resolve_parts(text, prefer_oblast=True)] == [("oblast", code)]
    # a word for the unit always names the oblast
    assert _check(f"{text} region", "oblast", resolve_place(f"{text} oblast").name, code)


def test_prefer_oblast_changes_only_names_an_oblast_shares():
    # Kyiv city is its own unit, not part of Kyiv oblast
    assert [(p.kind, p.admin1_code) for _, p in resolve_parts("Kyiv", prefer_oblast=True)] == [("oblast", "UA-30")]
    # a town that names no oblast stays a town; an adjective stem stays the oblast
    assert [p.kind for _, p in resolve_parts("Kryvyi Rih and Brovary", prefer_oblast=True)] == ["settlement"] * 2
    assert _check("Vinnytska", "oblast", "Vinnytsia Oblast", "UA-05")
    assert [(p.kind, p.admin1_code) for _, p in resolve_parts("Sumy and Kharkiv", prefer_oblast=True)] == [
        ("oblast", "UA-59"), ("oblast", "UA-63")]


def test_settlements_for_place_labels_are_the_largest_first():
    places = gazetteer.settlements(100_000)
    names = [p[0] for p in places]
    assert names[0] == "Kyiv" and {"Kharkiv", "Odesa", "Lviv", "Dnipro"} <= set(names)
    assert all(p[3] >= 100_000 for p in places) and [p[3] for p in places] == sorted((p[3] for p in places), reverse=True)
    kyiv = places[0]
    assert kyiv[1] == pytest.approx(50.45, abs=0.05) and kyiv[2] == pytest.approx(30.52, abs=0.05)
    assert len(gazetteer.settlements(10_000)) > 3 * len(places)
    # city districts GeoNames lists as places are not labelled as towns, whatever their population
    assert not {"Darnytsya", "Saltivka", "Pravyi Bereh", "Desna"} & set(names) and "Mariupol" in names
