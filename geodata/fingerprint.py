"""Fingerprints of data sources and of the rows a view shows, to notice when data changed.

A *source fingerprint* records a data file's size, modification time and
SHA-256 (read in blocks: memory stays small whatever the file's size); a
database URI has none (its rows say whether it changed). A *rows
fingerprint* hashes the canonical rows themselves, whatever they were read
from (a file, a database): each row's event id, time, place, munition,
outcome, casualties and text fields (:data:`~geodata.schema.CANONICAL_COLUMNS`,
extra input columns left out) hashed to 64 bits, stable across re-reads and
independent of row order. Up to :data:`ROWS_KEPT` rows, a short hash of each
row's event id and of its content is kept too (8 bytes a row), so a later
comparison says how many rows were added, removed and changed; above that
only the count and the overall digest are kept, and a comparison says the
rows differ and by how many, not which.

Qt-free: the batch CLI and the app use it.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from collections import Counter
from dataclasses import dataclass
import numpy as np
import pandas as pd

from geodata.errors import DataError
from geodata.points import lon_lat
from geodata.schema import CANONICAL_COLUMNS
from geodata.uri import is_uri

#: Name of the row hashing below; a view saved with another method is not compared row by row.
ROWS_METHOD = "rows-1"
#: Views showing up to this many rows keep a hash per row (8 bytes each) and can say which rows changed.
ROWS_KEPT = 50_000
_BLOCK = 1 << 20
_MIX = np.uint64(0x100000001B3)  # FNV-1a's 64-bit prime: spreads each column into the row hash
_NA_TIME = np.iinfo(np.int64).min
_NA_NUMBER = np.uint64(0x7FF8DEADBEEF0001)  # a missing number: one fixed value, not a NaN's bits


# -- data sources -------------------------------------------------------------

@dataclass(frozen=True)
class SourceFingerprint:
    """A data file as it was: size in bytes, modification time (UTC, ISO text), SHA-256 in hex.

    All three are None for a source that is not a file (a database URI).
    """

    size: int | None = None
    modified: str | None = None
    sha256: str | None = None

    def to_dict(self) -> dict:
        return {"size": self.size, "modified": self.modified, "sha256": self.sha256}


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, read 1 MB at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def _modified(stat: os.stat_result) -> str:
    return dt.datetime.fromtimestamp(stat.st_mtime, dt.timezone.utc).isoformat(timespec="seconds")


def source_fingerprint(source: str | os.PathLike) -> SourceFingerprint:
    """The fingerprint of a data file now (an empty one for a database URI).

    Raises :class:`DataError` naming the file when it cannot be read.
    """
    if is_uri(source):
        return SourceFingerprint()
    try:
        stat = os.stat(source)
        return SourceFingerprint(stat.st_size, _modified(stat), file_sha256(source))
    except OSError as exc:
        raise DataError(f"{source}: cannot read for the fingerprint: {exc.strerror or exc}") from None


def source_change(saved: SourceFingerprint, source: str | os.PathLike) -> str | None:
    """How ``source`` differs from ``saved`` in words ("changed: 2,301 bytes, now 2,410; modified ..."),
    or None when its bytes are the same (a new modification time alone is no change)."""
    if saved.sha256 is None or is_uri(source):
        return None
    try:
        stat = os.stat(source)
    except OSError as exc:
        return f"cannot be read now ({exc.strerror or exc})"
    when = f"modified {_modified(stat).replace('T', ' ').replace('+00:00', ' UTC')}"
    if saved.size is not None and stat.st_size != saved.size:
        return f"changed: {saved.size:,} bytes when saved, {stat.st_size:,} now, {when}"
    try:
        same = file_sha256(source) == saved.sha256
    except OSError as exc:
        return f"cannot be read now ({exc.strerror or exc})"
    return None if same else f"changed: same size, other content, {when}"


# -- rows ---------------------------------------------------------------------

def _text(column: pd.Series) -> np.ndarray:
    if isinstance(column.dtype, pd.CategoricalDtype):  # hash each category once
        hashes = np.append(_text(pd.Series(column.cat.categories.astype(object))), _text(pd.Series([None])))
        return hashes[column.cat.codes.to_numpy()]  # code -1 (missing) reads the last
    # no text holds a NUL: missing differs from "" and from "NA"
    values = column.to_numpy(dtype=object, na_value="\0NA")
    try:
        return pd.util.hash_array(values)  # each distinct value hashed once
    except TypeError:  # numbers or other objects in a text column: hashed as their text
        return pd.util.hash_array(np.array([str(v) for v in values], dtype=object))


def _numbers(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64) + 0.0  # -0.0 becomes 0.0
    bits = values.view(np.uint64).copy()
    bits[np.isnan(values)] = _NA_NUMBER
    return pd.util.hash_array(bits)


def _times(column: pd.Series) -> np.ndarray:
    times = pd.to_datetime(column, utc=True, errors="coerce")
    # Nanoseconds since 1970 in UTC, whatever resolution the reader chose.
    ns = times.dt.tz_localize(None).to_numpy().astype("datetime64[ns]").view(np.int64)
    return pd.util.hash_array(np.where(pd.isna(times).to_numpy(), _NA_TIME, ns).astype(np.int64))


def _geometry(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon_lat(frame)
    return np.round(x, 7), np.round(y, 7)  # 1 cm: the same point read from any format


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's canonical fields (uint64, in row order).

    Missing canonical columns count as missing values; extra columns are not
    hashed. Equal rows give equal hashes whichever reader produced them.
    """
    n = len(frame)
    combined = np.zeros(n, dtype=np.uint64)
    if not n:
        return combined
    x, y = _geometry(frame)
    for number, name in enumerate(CANONICAL_COLUMNS):
        if name == "geometry":
            parts = [_numbers(x), _numbers(y)]
        elif name not in frame.columns:
            parts = [_text(pd.Series([None] * n))]
        elif name == "occurred_at":
            parts = [_times(frame[name])]
        elif name in ("killed", "injured"):
            parts = [_numbers(pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan))]
        else:
            parts = [_text(frame[name])]
        for part in parts:
            combined = (combined ^ part) * _MIX + np.uint64(number + 1)
    return combined


def row_keys(frame: pd.DataFrame, hashes: np.ndarray | None = None) -> np.ndarray:
    """A 64-bit hash of each row's identity: its event id, or its content when it has none."""
    hashes = row_hashes(frame) if hashes is None else hashes
    if "event_id" not in frame.columns or not len(frame):
        return hashes.copy()
    ids = frame["event_id"].astype(object)
    missing = pd.isna(ids).to_numpy()
    keys = _text(ids)
    keys[missing] = hashes[missing]
    return keys


@dataclass(frozen=True)
class RowsFingerprint:
    """The rows a view showed: how many, a digest of them all, and (up to ROWS_KEPT rows) per-row hashes.

    ``pairs`` is base64 text of (id hash, content hash) pairs, 32 bits each, sorted; None above ROWS_KEPT rows.
    """

    count: int
    digest: str
    pairs: str | None = None
    method: str = ROWS_METHOD

    def to_dict(self) -> dict:
        out = {"method": self.method, "count": self.count, "digest": self.digest}
        if self.pairs is not None:
            out["pairs"] = self.pairs
        return out


def rows_digest(frame: pd.DataFrame) -> str:
    """SHA-256 (hex) over the sorted row hashes and the row count: the same rows in any order agree."""
    return _digest(row_hashes(frame))


def _digest(hashes: np.ndarray) -> str:
    digest = hashlib.sha256(f"{ROWS_METHOD}:{len(hashes)}:".encode("ascii"))
    digest.update(np.sort(hashes).astype("<u8").tobytes())
    return digest.hexdigest()


def _pairs(keys: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """(id, content) hashes cut to 32 bits each, as sorted uint64 values id << 32 | content."""
    pairs = ((keys >> np.uint64(32)) << np.uint64(32)) | (hashes >> np.uint64(32))
    return np.sort(pairs)


def rows_fingerprint(frame: pd.DataFrame, *, keep: int = ROWS_KEPT) -> RowsFingerprint:
    """The fingerprint of ``frame``'s rows (the rows a view shows)."""
    hashes = row_hashes(frame)
    pairs = None
    if len(hashes) <= keep:
        pairs = base64.b64encode(_pairs(row_keys(frame, hashes), hashes).astype("<u8").tobytes()).decode("ascii")
    return RowsFingerprint(len(hashes), _digest(hashes), pairs)


@dataclass(frozen=True)
class RowChanges:
    """How the rows shown now differ from a saved fingerprint.

    ``added``, ``removed`` and ``changed`` are counts when the fingerprint kept
    per-row hashes (``exact``), else None: only ``before`` and ``after`` (row
    counts) are known, and ``same`` says whether the digests agree. A row is
    *changed* when a row with its event id is still there with other content.
    """

    before: int
    after: int
    same: bool
    exact: bool
    added: int | None = None
    removed: int | None = None
    changed: int | None = None

    def words(self) -> str:
        """The difference in a few words ("3 rows added, 1 changed (120 when saved, 122 now)")."""
        if self.same:
            return f"the same {self.after:,} rows"
        counts = f"{self.before:,} when saved, {self.after:,} now"
        if not self.exact:
            return f"other rows ({counts}; too many rows were shown to say which changed)"
        parts = [f"{n:,} {what}" for n, what in ((self.added, "added"), (self.removed, "removed"),
                                                 (self.changed, "changed")) if n]
        if not parts:  # a 32-bit collision hid the difference; the digest still saw it
            return f"other rows ({counts})"
        return f"{_plural(parts)} ({counts})"


def _plural(parts: list[str]) -> str:
    first = parts[0].split(" ", 1)
    head = f"{first[0]} row{'s' if first[0] != '1' else ''} {first[1]}"
    return ", ".join([head] + parts[1:])


def compare_rows(saved: RowsFingerprint, frame: pd.DataFrame) -> RowChanges | None:
    """Compare ``frame``'s rows with ``saved``; None when ``saved`` used another hashing method."""
    if saved.method != ROWS_METHOD:
        return None
    hashes = row_hashes(frame)
    same = _digest(hashes) == saved.digest
    if same or saved.pairs is None:
        return RowChanges(saved.count, len(hashes), same, exact=same)
    before = np.frombuffer(base64.b64decode(saved.pairs), dtype="<u8")
    after = _pairs(row_keys(frame, hashes), hashes)
    old, new = Counter(before.tolist()), Counter(after.tolist())
    old_only, new_only = old - new, new - old
    old_keys = Counter(k >> 32 for k in old_only.elements())
    new_keys = Counter(k >> 32 for k in new_only.elements())
    changed = sum((old_keys & new_keys).values())
    return RowChanges(saved.count, len(hashes), False, True, added=sum(new_only.values()) - changed,
                      removed=sum(old_only.values()) - changed, changed=changed)


def rows_fingerprint_from_dict(value: object, where: str) -> RowsFingerprint:
    """Read a :meth:`RowsFingerprint.to_dict` value back; :class:`DataError` naming ``where`` when malformed."""
    if not (isinstance(value, dict) and isinstance(value.get("method"), str)
            and isinstance(value.get("count"), int) and not isinstance(value.get("count"), bool)
            and value["count"] >= 0 and isinstance(value.get("digest"), str)
            and (value.get("pairs") is None or isinstance(value["pairs"], str))):
        raise DataError(f"{where}: must be an object with method, count and digest")
    pairs = value.get("pairs")
    if pairs is not None and value["method"] == ROWS_METHOD:
        try:
            size = len(base64.b64decode(pairs, validate=True))
        except ValueError:
            size = -1
        if size != 8 * value["count"]:
            raise DataError(f"{where}: 'pairs' does not hold {value['count']:,} rows")
    return RowsFingerprint(value["count"], value["digest"], pairs, value["method"])


def sources_from_list(value: object, count: int, where: str) -> tuple[SourceFingerprint, ...]:
    """Read a list of :meth:`SourceFingerprint.to_dict` values (one per data source) back."""
    def ok(item) -> bool:
        return (isinstance(item, dict)
                and (item.get("size") is None or (isinstance(item["size"], int) and not isinstance(item["size"], bool)))
                and all(item.get(k) is None or isinstance(item[k], str) for k in ("modified", "sha256")))

    if not (isinstance(value, list) and len(value) == count and all(ok(v) for v in value)):
        raise DataError(f"{where}: must list size, modified and sha256 of each of the {count} data files")
    return tuple(SourceFingerprint(v.get("size"), v.get("modified"), v.get("sha256")) for v in value)

