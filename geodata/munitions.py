"""The munition catalogue: canonical names, classes and the aliases analysts write.

The catalogue is ``resources/munitions.csv`` (name, class, origin, aliases joined
by ``|``). Lookup ignores case, spaces, hyphens and punctuation, and reads
Cyrillic as Latin, so "Х-101", "kh101" and "KH 101" all find Kh-101.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from geodata.schema import MUNITION_CLASSES

# Russian/Ukrainian letters to the Latin spelling used in English-language reporting
# (Х-101 -> Kh-101, Калибр -> Kalibr, Герань -> Geran).
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "e", "є": "e",
    "ж": "zh", "з": "z", "и": "i", "і": "i", "ї": "i", "й": "y", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh",
    "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
}
_TRANSLIT = str.maketrans(_CYRILLIC)
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True)
class Munition:
    """One catalogue entry."""

    name: str
    munition_class: str
    origin: str
    aliases: tuple[str, ...]


def munition_key(text: str) -> str:
    """The lookup key of a munition name: lower case, Latin letters and digits only."""
    return _NOT_ALNUM.sub("", text.casefold().translate(_TRANSLIT))


def _read_catalogue() -> list[Munition]:
    text = files("resources").joinpath("munitions.csv").read_text(encoding="utf-8")
    entries = []
    for rec in csv.DictReader(io.StringIO(text)):
        cls = rec["class"].strip()
        if cls not in MUNITION_CLASSES:
            raise ValueError(f"munitions.csv: {rec['name']!r} has unknown class {cls!r}")
        aliases = tuple(a.strip() for a in (rec.get("aliases") or "").split("|") if a.strip())
        entries.append(Munition(rec["name"].strip(), cls, rec["origin"].strip(), aliases))
    return entries


@lru_cache(maxsize=1)
def catalogue() -> tuple[Munition, ...]:
    """Every munition in the catalogue, in file order."""
    return tuple(_read_catalogue())


@lru_cache(maxsize=1)
def _index() -> dict[str, Munition]:
    index: dict[str, Munition] = {}
    for m in catalogue():
        for label in (m.name, *m.aliases):
            key = munition_key(label)
            other = index.get(key)
            if other is not None and other is not m:
                raise ValueError(f"munitions.csv: {label!r} names both {other.name} and {m.name}")
            index[key] = m
    return index


def resolve_munition(text: object) -> Munition | None:
    """The catalogue entry a name or alias refers to, or None when unknown or empty."""
    if not isinstance(text, str):
        return None
    key = munition_key(text)
    return _index().get(key) if key else None


#: Words for one munition class rather than one munition, as reports write them (EN/UK/RU). A
#: "guided bomb" may be a KAB or a FAB with UMPK: such a word gives the class and names no munition.
CLASS_WORDS: dict[str, tuple[str, ...]] = {
    "ballistic missile": ("ballistic missile", "ballistic", "srbm", "балістична ракета", "балістичні ракети",
                          "балістика", "баллистическая ракета", "баллистические ракеты", "баллистика"),
    "cruise missile": ("cruise missile", "крилата ракета", "крилаті ракети", "крылатая ракета", "крылатые ракеты"),
    "air-launched missile": ("air-launched missile", "aircraft missile", "авіаційна ракета", "авиационная ракета"),
    "surface-to-air missile": ("surface-to-air missile", "sam", "зенітна ракета", "зенитная ракета"),
    "guided bomb": ("guided bomb", "glide bomb", "guided aerial bomb", "aerial bomb", "bomb", "керована авіабомба",
                    "керована авіаційна бомба", "авіабомба", "управляемая авиабомба", "корректируемая авиабомба",
                    "авиабомба"),
    "rocket artillery": ("rocket artillery", "mlrs", "multiple rocket launcher", "рсзв", "рсзо"),
    "decoy": ("decoy", "decoy drone", "дрон-приманка", "імітатор"),
}
_LEADING_COUNT = re.compile(r"^[0-9]+(?:x)?")


def word_keys(text: str) -> list[str]:
    """Lookup keys of a word as reports write it, count and plural dropped: "2x guided bombs" gives
    the keys of "guided bombs" and "guided bomb"."""
    key = _LEADING_COUNT.sub("", munition_key(text))
    keys = [key, key[:-1] if key.endswith("s") else "", key[:-2] if key.endswith("es") else ""]
    return [k for k in keys if k]


@lru_cache(maxsize=1)
def _class_keys() -> dict[str, str]:
    return {munition_key(word): cls for cls, words in CLASS_WORDS.items() for word in words}


def class_word(text: object) -> str | None:
    """The class a class word names ("guided bomb", "балістична ракета" ...), or None."""
    if not isinstance(text, str):
        return None
    return next((_class_keys()[k] for k in word_keys(text) if k in _class_keys()), None)


def munition_names() -> tuple[str, ...]:
    """Canonical names in catalogue order."""
    return tuple(m.name for m in catalogue())


@lru_cache(maxsize=1)
def _text_pattern() -> re.Pattern[str]:
    # Each alias as a word sequence whose parts may be joined by space, hyphen or nothing;
    # longest first so "Kh-47M2" wins over "Kh-47".
    labels = {munition_key(label): label for m in catalogue() for label in (m.name, *m.aliases)}
    parts = []
    for key in sorted(labels, key=len, reverse=True):
        tokens = re.findall(r"[a-z]+|[0-9]+", labels[key].casefold().translate(_TRANSLIT))
        parts.append(r"[\s\-]?".join(re.escape(t) for t in tokens))
    # an English plural ("Kh-101s", "S-300s") still names the munition
    return re.compile(r"(?<![0-9a-z])(?:" + "|".join(parts) + r")s?(?![0-9a-z])")


@lru_cache(maxsize=1)
def _prefilter_re2() -> str:
    # the Latin spellings of every alias, for Arrow's RE2 (no look-arounds): a superset of matches
    labels = {munition_key(label): label for m in catalogue() for label in (m.name, *m.aliases)}
    parts = set()
    for label in labels.values():
        tokens = re.findall(r"[a-z]+|[0-9]+", label.casefold().translate(_TRANSLIT))
        parts.add(r"[\s\-]?".join(re.escape(t) for t in tokens))
    return "|".join(sorted(parts, key=len, reverse=True))


def may_name_munitions(texts):
    """Which texts (an Arrow or pandas text column) may name a catalogue munition.

    A fast, vectorised superset test: texts with Cyrillic letters always pass (their
    aliases are matched after transliteration by :func:`find_munitions`).
    """
    arr = pa.array(texts.array if hasattr(texts, "array") else texts)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.string())
    low = pc.utf8_lower(arr)
    hit = pc.or_(pc.match_substring_regex(low, _prefilter_re2()), pc.match_substring_regex(low, "[а-яіїєґё]"))
    return np.asarray(hit.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def find_munitions(text: object) -> list[Munition]:
    """Catalogue entries named anywhere in free text (e.g. notes), in order of first mention."""
    if not isinstance(text, str) or not text:
        return []
    found: list[Munition] = []
    for match in _text_pattern().finditer(text.casefold().translate(_TRANSLIT)):
        m = resolve_munition(match.group(0)) or resolve_munition(match.group(0)[:-1])
        if m is not None and m not in found:
            found.append(m)
    return found


# Values analysts write where no munition is known: compared after casefolding and trimming
# spaces and punctuation ("N/A", "n.a.", "—", "missing link" from TimeMap tag columns).
_PLACEHOLDERS = {
    "", "n/a", "n a", "na", "n.a", "none", "null", "nan", "nil", "unknown", "unk", "not known", "unidentified",
    "tbd", "tbc", "to be confirmed", "missing", "missing link", "no link", "link", "no data", "other", "x",
    "невідомо", "невідомий", "невідома", "не відомо", "немає", "немає даних", "нема", "н/д", "інше",
    "неизвестно", "неизвестный", "неизвестная", "нет", "нет данных", "н/а", "другое",
}
_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|www\.)\S+$", re.IGNORECASE)
_EDGES = " \t\r\n.,;:!-–—_*()[]\"'"


def not_a_munition(text: object) -> str | None:
    """Why a munition cell names no munition: "a link" (a URL), "a placeholder" ("n/a", "-", "?",
    "unknown", "missing link" ...); None when it may name one."""
    if not isinstance(text, str):
        return None
    value = text.strip()
    if _URL.match(value):
        return "a link"
    bare = value.casefold().strip(_EDGES)
    if bare in _PLACEHOLDERS or not bare.strip("?"):  # "-", "?", "??", "..." and the words above
        return "a placeholder"
    return None
