"""Batches of passages of similar length, never holding the same text twice.

A batch is padded to its longest passage; on two CPU cores the padding was about a third of the work
with random batches (passages run from 40 to 340 tokens). So each epoch shuffles the examples, sorts
them by passage length within windows of `batch_size × WINDOW` examples, cuts those into batches and
shuffles the batches: the order stays random at the scale of the epoch. In-batch negatives need
distinct texts (a duplicate would be its own negative), as sentence-transformers' NoDuplicates sampler
ensures; an example whose texts are already in the batch waits for the next one.

A dataset may hold one version of the examples per epoch (`passes` > 1: rows [e·n, (e+1)·n) are epoch e's),
so an epoch can see other forms of the same questions (`training/misspell.py`) in the order it would have
seen the plain ones.
"""

from __future__ import annotations

import random

from sentence_transformers.base.sampler import DefaultBatchSampler

WINDOW = 16


class LengthBucketBatchSampler(DefaultBatchSampler):
    passes = 1
    """How many versions of the examples the dataset holds, one after the other: epoch e draws from version
    e mod passes (set by `with_passes`: the trainer builds the sampler from a class, not an instance)."""

    @classmethod
    def with_passes(cls, passes: int) -> type[LengthBucketBatchSampler]:
        return cls if passes == 1 else type(f"{cls.__name__}{passes}", (cls,), {"passes": passes})

    def __init__(self, dataset, batch_size: int, drop_last: bool, valid_label_columns=None, generator=None,
                 seed: int = 0):
        super().__init__(dataset, batch_size=batch_size, drop_last=drop_last,
                         valid_label_columns=valid_label_columns, generator=generator, seed=seed)
        self.texts = [tuple(row[c] for c in dataset.column_names) for row in dataset]
        self.length = [len(t[1]) for t in self.texts]  # the positive passage's characters
        self.seed = seed
        self._batches = self._plan(0)

    def set_epoch(self, epoch: int) -> None:
        super().set_epoch(epoch)
        self._batches = self._plan(epoch)

    def _plan(self, epoch: int) -> list[list[int]]:
        rng = random.Random(self.seed * 1000 + epoch)
        n = len(self.texts) // self.passes
        if n * self.passes != len(self.texts):
            raise ValueError(f"{len(self.texts)} rows do not hold {self.passes} versions of the examples")
        order = list(range(n))
        rng.shuffle(order)
        start = (epoch % self.passes) * n
        order = [start + i for i in order]
        size = self.batch_size
        batches: list[list[int]] = []
        for w in range(0, len(order), size * WINDOW):
            waiting = sorted(order[w:w + size * WINDOW], key=lambda i: self.length[i])
            while waiting:
                batch, seen, rest = [], set(), []
                for i in waiting:
                    if len(batch) < size and not seen.intersection(self.texts[i]):
                        batch.append(i)
                        seen.update(self.texts[i])
                    else:
                        rest.append(i)
                if len(batch) < size and self.drop_last:
                    break
                batches.append(batch)
                waiting = rest
        rng.shuffle(batches)
        return batches

    def __iter__(self):
        yield from self._batches

    def __len__(self) -> int:
        return len(self._batches)
