"""Which samples of a global batch each rank computes."""

from __future__ import annotations


def shard(batch_size: int, rank: int, world_size: int) -> slice:
    """The contiguous part of ``range(batch_size)`` that rank ``rank`` of ``world_size`` takes.

    The parts cover the batch once, in rank order; their sizes differ by at most one (the
    first ``batch_size % world_size`` ranks take one sample more).

    Args:
        batch_size: samples in the global batch, B >= world_size.
        rank: 0 <= rank < world_size.
        world_size: number of ranks, >= 1.

    Returns:
        A slice into the batch's first axis.

    Raises:
        ValueError: a rank out of range, or fewer samples than ranks.
    """
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"shard: rank {rank} is not in 0..{world_size - 1}")
    if batch_size < world_size:
        raise ValueError(
            f"shard: a batch of {batch_size} samples cannot be split over {world_size} ranks"
        )
    base, extra = divmod(batch_size, world_size)
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (rank < extra))
