"""shard: the parts of a global batch that the ranks compute."""

import pytest

from cnnlab.distributed import shard


@pytest.mark.parametrize("batch_size", [3, 7, 50, 101])
@pytest.mark.parametrize("world_size", [1, 2, 3])
def test_parts_cover_the_batch_once_in_order_with_sizes_one_apart(batch_size, world_size):
    parts = [shard(batch_size, rank, world_size) for rank in range(world_size)]
    indices = [i for part in parts for i in range(batch_size)[part]]
    assert indices == list(range(batch_size))
    sizes = [part.stop - part.start for part in parts]
    assert max(sizes) - min(sizes) <= 1


def test_bad_ranks_and_small_batches_are_refused():
    with pytest.raises(ValueError, match=r"shard: rank 2 is not in 0\.\.1"):
        shard(10, 2, 2)
    with pytest.raises(ValueError, match="shard: a batch of 1 samples cannot be split over 2"):
        shard(1, 0, 2)
