"""The munition catalogue: aliases a user writes find the canonical entry."""
from __future__ import annotations

import pytest

from geodata.munitions import catalogue, find_munitions, munition_key, munition_names, resolve_munition
from geodata.schema import MUNITION_CLASSES


@pytest.mark.parametrize(
    ("text", "name", "cls"),
    [
        ("Х-101", "Kh-101", "cruise missile"),  # Cyrillic Kha
        ("kh101", "Kh-101", "cruise missile"),
        ("X-101", "Kh-101", "cruise missile"),  # Latin X
        ("Hwasong 11A", "KN-23", "ballistic missile"),
        ("hwasong-11ga", "KN-23", "ballistic missile"),
        ("Hwasong-11B", "KN-24", "ballistic missile"),
        ("Geran-2", "Shahed-136", "loitering munition"),
        ("Герань-2", "Shahed-136", "loitering munition"),
        ("Shahed 136", "Shahed-136", "loitering munition"),
        ("Geran-1", "Shahed-131", "loitering munition"),
        ("Калибр", "3M-14 Kalibr", "cruise missile"),
        ("Калібр", "3M-14 Kalibr", "cruise missile"),
        ("Iskander M", "9M723 Iskander-M", "ballistic missile"),
        ("Іскандер-К", "9M728 Iskander-K", "cruise missile"),
        ("9M729", "9M729", "cruise missile"),
        ("Kinzhal", "Kh-47M2 Kinzhal", "ballistic missile"),
        ("Х-22", "Kh-22", "air-launched missile"),
        ("kh 32", "Kh-32", "air-launched missile"),
        ("Kh-59", "Kh-59", "cruise missile"),
        ("Х-69", "Kh-69", "cruise missile"),
        ("Kh-31P", "Kh-31P", "air-launched missile"),
        ("Oniks", "P-800 Oniks", "cruise missile"),
        ("С-300", "S-300", "surface-to-air missile"),
        ("s400", "S-400", "surface-to-air missile"),
        ("КАБ-500", "KAB", "guided bomb"),
        ("UMPK", "UMPK", "guided bomb"),
        ("Tornado-S", "Tornado-S", "rocket artillery"),
        ("Смерч", "Smerch", "rocket artillery"),
        ("BM-21", "Grad", "rocket artillery"),
        ("Ланцет", "Lancet", "loitering munition"),
        ("Gerbera", "Gerbera", "decoy"),
        ("  SHAHED-136  ", "Shahed-136", "loitering munition"),
        # Air Force reports write the Kh- family with a Latin X
        ("X-47 Kinzhal", "Kh-47M2 Kinzhal", "ballistic missile"),
        ("Kh-47 Kinzhal", "Kh-47M2 Kinzhal", "ballistic missile"),
        ("X-47", "Kh-47M2 Kinzhal", "ballistic missile"),
        ("X-47M2", "Kh-47M2 Kinzhal", "ballistic missile"),
        ("X-555", "Kh-555", "cruise missile"),
        ("X-55", "Kh-55", "cruise missile"),
        ("Kh-55", "Kh-55", "cruise missile"),
        ("Х-55", "Kh-55", "cruise missile"),
        ("X-22", "Kh-22", "air-launched missile"),
        ("X-59", "Kh-59", "cruise missile"),
        ("X-69", "Kh-69", "cruise missile"),
        ("X-31P", "Kh-31P", "air-launched missile"),
        ("X-32", "Kh-32", "air-launched missile"),
    ],
)
def test_alias_resolves(text: str, name: str, cls: str) -> None:
    m = resolve_munition(text)
    assert m is not None, text
    assert (m.name, m.munition_class) == (name, cls)


@pytest.mark.parametrize("text", ["", "   ", "banana", "drone", None, 42])
def test_unknown_or_empty_is_none(text: object) -> None:
    assert resolve_munition(text) is None


def test_contract_names_present_and_classes_valid() -> None:
    required = {
        "KN-23", "KN-24", "Shahed-136", "Shahed-131", "Kh-101", "Kh-555", "3M-14 Kalibr", "9M723 Iskander-M",
        "9M728 Iskander-K", "9M729", "Kh-47M2 Kinzhal", "Kh-22", "Kh-32", "Kh-59", "Kh-69", "Kh-31P",
        "P-800 Oniks", "S-300", "S-400", "KAB", "UMPK", "Tornado-S", "Smerch", "Grad", "Lancet", "Gerbera",
    }
    assert required <= set(munition_names())
    assert all(m.munition_class in MUNITION_CLASSES for m in catalogue())
    assert all(m.origin for m in catalogue())


def test_every_name_and_alias_resolves_to_its_own_entry() -> None:
    # an alias shared by two entries would make lookups depend on file order
    for m in catalogue():
        for label in (m.name, *m.aliases):
            assert resolve_munition(label) is m, label


@pytest.mark.parametrize("text", ["guided bomb", "glide bombs", "guided aerial bomb", "керована авіабомба",
                                  "керована авіаційна бомба", "2x guided bombs"])
def test_a_class_word_names_its_class_not_one_munition(text: str) -> None:
    from geodata.munitions import class_word

    # "guided bomb" is said of a KAB and of a FAB with UMPK alike
    assert resolve_munition(text) is None and find_munitions(f"a {text} hit the yard") == []
    assert class_word(text) == "guided bomb"


def test_no_class_word_is_an_alias_of_one_munition() -> None:
    from geodata.munitions import CLASS_WORDS

    for cls, words in CLASS_WORDS.items():
        assert cls in MUNITION_CLASSES
        assert [w for w in words if resolve_munition(w) is not None] == [], cls


def test_key_ignores_case_spaces_hyphens_and_script() -> None:
    assert munition_key("Х-101") == munition_key("KH 101") == munition_key("kh101")


def test_find_in_free_text() -> None:
    found = find_munitions("Overnight: Kh-101 cruise missiles, Shahed drones and a Х-47М2; s-300 too.")
    assert [m.name for m in found] == ["Kh-101", "Shahed-136", "Kh-47M2 Kinzhal", "S-300"]
    assert find_munitions("shelling of the outskirts") == []
    # Kh-55 and Kh-555 are different missiles: the longer name wins where it is written
    assert [m.name for m in find_munitions("X-555 and X-55 cruise missiles")] == ["Kh-555", "Kh-55"]


def test_links_and_placeholders_name_no_munition() -> None:
    from geodata.munitions import not_a_munition

    for link in ("https://t.me/channel/1", "http://example.org/a?b=1", "www.example.org/x"):
        assert not_a_munition(link) == "a link"
    for placeholder in ("missing link", "N/A", "n.a.", "-", "—", "?", "??", "unknown", "Unknown ", "невідомо",
                        "неизвестно", "н/д", "none"):
        assert not_a_munition(placeholder) == "a placeholder", placeholder
    for name in ("KN-23", "KN-23?", "Shahed", "ракета Х-101", "Zircon", None):
        assert not_a_munition(name) is None, name
