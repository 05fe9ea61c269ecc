"""Groups of samples of one item, from one 64-bit key per row: how many rewards don't vary within a group.

A row's key is the hash of its grouping field's value, or (identical items) of its compact JSON without
the sample. `Groups` keeps the key and reward of each row in two flat arrays (16 bytes a row) up to
`exact_rows`, then spills them to 16 partition files by key, so a run of any size groups in bounded
memory: each partition is grouped on its own (a group's rows all land in one partition).
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

from ftstudio.core import REWARD_TOLERANCE, mean, mean_std

from ._plain import plain_rewards, shared

if TYPE_CHECKING:
    import tempfile

    import numpy as np

MAX_GROUPS_LISTED = 1000
NO_GROUP = -(2**63)  # the key of a row that belongs to no group (no field value, unreadable row)
PARTITIONS = 16
EXACT_ROWS = 1_000_000
SPILL_ROWS = 65_536
_RECORD = "<i8,<i8,<f8"  # key, row, reward (one spilled row)


def key_of(hashed: int) -> int:
    """A hash as a key, never the NO_GROUP sentinel."""
    return hashed if hashed != NO_GROUP else NO_GROUP + 1


class Groups:
    """Per-row keys (and, once spilled, rewards), added chunk by chunk in row order; `section(rewards)` is
    calibration's "groups". In memory only the keys are kept: the caller holds the rewards already."""

    def __init__(self, group_field: str | None = None, exact_rows: int = EXACT_ROWS):
        self.group_field = group_field
        self.names: dict[int, str] = {}  # key -> the grouping field's value (with a field only)
        self.exact_rows = exact_rows
        self.count = 0
        self._keys = array("q")
        self._spill: tempfile.TemporaryDirectory[str] | None = None

    def add(self, keys: Sequence[int], rewards: Sequence[float], before: Sequence[float] = ()) -> None:
        """One chunk's keys (NO_GROUP for rows without a group) and rewards, following the rows added before;
        `before`: the rewards of those rows (needed once, when the keys spill to disk)."""
        if self._spill is None and self.count + len(keys) > self.exact_rows:
            import tempfile  # here: a run of up to exact_rows rows never spills (issue 23, start-up)

            self._spill = tempfile.TemporaryDirectory(prefix="ftstudio-groups-")
            self._write(self._keys, before, 0)
            self._keys = array("q")
        if self._spill is None:
            self._keys.extend(keys)
        else:
            self._write(keys, rewards, self.count)
        self.count += len(keys)

    def add_hashables(self, keys: Sequence[Hashable | None], rewards: Sequence[float],
                      before: Sequence[float] = ()) -> None:
        """Keys as `group_keys` gives them (values or hashes, None for no group)."""
        if not self.group_field and None not in keys:  # identical items: ints already (a C-level copy)
            try:
                ints = array("q", cast(Sequence[int], keys))
            except (TypeError, OverflowError):
                pass
            else:
                if NO_GROUP in ints:
                    ints = array("q", [key_of(k) for k in ints])
                self.add(ints, rewards, before)
                return
        ints = array("q")
        for k in keys:
            if k is None:
                ints.append(NO_GROUP)
                continue
            key = key_of(k if isinstance(k, int) and -(2**63) <= k < 2**63 else hash(k))
            ints.append(key)
            if self.group_field and key not in self.names:
                self.names[key] = str(k)
        self.add(ints, rewards, before)

    def _write(self, keys: Sequence[int], rewards: Sequence[float], first_row: int) -> None:
        for start in range(0, len(keys), SPILL_ROWS):  # in slices: the records are 24 bytes a row
            self._write_slice(keys[start:start + SPILL_ROWS], rewards[start:start + SPILL_ROWS], first_row + start)

    def _write_slice(self, keys: Sequence[int], rewards: Sequence[float], first_row: int) -> None:
        import numpy as np

        assert self._spill is not None
        recs = np.empty(len(keys), dtype=_RECORD)
        recs["f0"] = np.asarray(keys, dtype=np.int64)
        recs["f1"] = np.arange(first_row, first_row + len(keys), dtype=np.int64)
        recs["f2"] = np.asarray(rewards, dtype=float)
        part = recs["f0"] & (PARTITIONS - 1)
        for p in range(PARTITIONS):
            with open(os.path.join(self._spill.name, str(p)), "ab") as fh:
                fh.write(recs[part == p].tobytes())

    def _partitions(self, rewards: Sequence[float]) -> Iterable[tuple[np.ndarray, np.ndarray | None, np.ndarray]]:
        """(keys, rows or None when they are 0..n-1 in order, rewards) per partition."""
        import numpy as np

        if self._spill is None:
            yield np.frombuffer(self._keys, dtype=np.int64), None, np.asarray(rewards, dtype=float)
            return
        for p in range(PARTITIONS):
            path = os.path.join(self._spill.name, str(p))
            recs = np.fromfile(path, dtype=_RECORD) if os.path.exists(path) else np.empty(0, dtype=_RECORD)
            yield recs["f0"], recs["f1"], recs["f2"]

    def section(self, rewards: Sequence[float]) -> dict[str, Any]:
        """Calibration's "groups": groups with 2+ samples, the share without reward variance, per-group std.
        `rewards`: every row's, in row order (read only while the keys are in memory)."""
        plain = plain_rewards(rewards) if self._spill is None else None
        if plain is not None:  # a small run: plain Python, the same figures, no numpy to import
            first, std, key = shared(self._keys, plain, NO_GROUP)
            without = self._keys.count(NO_GROUP)
        else:
            first, std, key, without = self._numpy_shared(rewards)
        by = self.group_field or "identical items"
        if not len(std):
            return {"by": by, "groups": 0, "rows_without_group": without, "zero_variance_share": None,
                    "std_mean": None, "std_median": None, "per_group_std": {}, "per_group_std_truncated": False,
                    "note": "no two rows share an item: generate several samples per prompt (ftstudio sample --n K)"}
        # The groups' first rows differ, so sorting by them is the numpy path's stable argsort.
        order = sorted(range(len(first)), key=first.__getitem__)[:MAX_GROUPS_LISTED]
        # Named by the field's value, or (identical items) by the group's first row number.
        listed = {(self.names[key[i]] if self.group_field else f"row {first[i]}"): std[i] for i in order}
        # Stds are >= 0, never -0.0: sorted as numpy sorts them (a NaN, from NaN rewards, last).
        ordered = sorted(std, key=lambda s: (s != s, s))
        zero = sum(1 for s in ordered if s <= REWARD_TOLERANCE)
        return {"by": by, "groups": len(std), "rows_without_group": without,
                "zero_variance_share": zero / len(std), "std_mean": mean(ordered),
                "std_median": ordered[len(ordered) // 2], "per_group_std": listed,
                "per_group_std_truncated": len(std) > MAX_GROUPS_LISTED, "note": None}

    def _numpy_shared(self, rewards: Sequence[float]) -> tuple[list[int], list[float], list[int], int]:
        """(first row, std, key) of every group of 2+ rows over the partitions, and the rows without a group."""
        import numpy as np

        firsts: list[np.ndarray] = []
        stds: list[np.ndarray] = []
        keys: list[np.ndarray] = []
        without = 0
        for k, rows, values in self._partitions(rewards):
            has = k != NO_GROUP
            missing = int(len(k) - np.count_nonzero(has))
            without += missing
            if rows is None:
                rows = np.arange(len(k), dtype=np.int64) if missing else None
            if missing:
                assert rows is not None
                k, rows, values = k[has], rows[has], values[has]
            f, s, g = _shared(k, rows, values)
            firsts.append(f)
            stds.append(s)
            keys.append(g)
        if self._spill is not None:
            self._spill.cleanup()
        return (np.concatenate(firsts).tolist(), np.concatenate(stds).tolist(), np.concatenate(keys).tolist(),
                without)


def _shared(keys: np.ndarray, rows: np.ndarray | None, rewards: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first row, std, key) of each group of 2+ rows; the std of the rewards in row order (core.mean_std).
    `rows` None: the rows are 0..n-1 in order (a stable sort by key keeps them in row order)."""
    import numpy as np

    if not len(keys):
        return np.empty(0, np.int64), np.empty(0), np.empty(0, np.int64)
    order = np.argsort(keys, kind="stable") if rows is None else np.lexsort((rows, keys))
    k = keys[order]
    # Only rows in a group of 2+ go further (often none: every item once): they are the rows equal to the
    # one before or after them in key order.
    same = k[1:] == k[:-1]
    if not same.any():
        return np.empty(0, np.int64), np.empty(0), np.empty(0, np.int64)
    grouped = np.zeros(len(k), dtype=bool)
    grouped[1:] |= same
    grouped[:-1] |= same
    pick = np.flatnonzero(grouped)
    del same, grouped
    k, at = k[pick], order[pick]
    del order, pick
    r = rewards[at]
    rw = at if rows is None else rows[at]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    sizes = np.diff(np.r_[starts, len(k)])
    lo, hi = np.minimum.reduceat(r, starts), np.maximum.reduceat(r, starts)
    # A group of one value v has std exactly 0 in mean_std when fsum's n*v (one rounding, as v*n) / n
    # gives v back; only the other groups need the exact per-group computation.
    with np.errstate(over="ignore", invalid="ignore"):
        flat = (lo == hi) & ((lo * sizes) / sizes == lo)
    std = np.zeros(len(starts))
    for i in np.flatnonzero(~flat).tolist():
        s = int(starts[i])
        std[i] = mean_std(r[s:s + int(sizes[i])].tolist())[1]
    return rw[starts], std, k[starts]


__all__ = ["MAX_GROUPS_LISTED", "NO_GROUP", "Groups", "key_of"]
