"""The keys already committed to a table, read back from the lake itself.

Only the key column, and only the partitions a batch touches, are read: the lake is
the de-duplication state, so nothing outside it can drift out of step with it.
"""

from __future__ import annotations

from collections import OrderedDict

import pyarrow as pa
import pyarrow.compute as pc

from socialsight.lake.store import Lake


class KeyIndex:
    """The keys already committed to one table, loaded per partition and cached (LRU)."""

    def __init__(self, lake: Lake, table: str, key: str, *, partitioned: bool = True,
                 max_partitions: int = 32) -> None:
        self.lake, self.table, self.key = lake, table, key
        self.partitioned = partitioned
        self.max_partitions = max_partitions
        self._cache: OrderedDict[str, list[pa.Array]] = OrderedDict()

    def _keys(self, dt: str) -> list[pa.Array]:
        slot = dt if self.partitioned else "*"
        if slot in self._cache:
            self._cache.move_to_end(slot)
            return self._cache[slot]
        table = self.lake.read(self.table, [self.key], dt=dt if self.partitioned else None)
        keys = [table.column(self.key).combine_chunks()]
        self._cache[slot] = keys
        if len(self._cache) > self.max_partitions:
            self._cache.popitem(last=False)
        return keys

    def seen(self, dt: str, keys: pa.Array) -> pa.Array:
        """A boolean mask: which of ``keys`` are committed already in partition ``dt``."""
        known = self._keys(dt)
        if len(known) > 1:
            known[:] = [pa.concat_arrays(known)]
        return pc.is_in(keys, value_set=known[0])

    def add(self, dt: str, keys: pa.Array) -> None:
        self._keys(dt).append(keys)
