"""Regenerate src/cnnlab/data/sample/cifar10_sample.npz from the JPEG copy of CIFAR-10.

Picks, with a seeded generator, 50 training and 10 test images of every class from
cifar10-jpeg.zip (classes interleaved, official label order) and writes them as a compressed
.npz of uint8 arrays: X_train (500, 32, 32, 3), y_train (500,), X_test (100, 32, 32, 3),
y_test (100,). The same zip and seed give the same file contents.

    python tools/make_cifar_sample.py [--source PATH/cifar10-jpeg.zip] [--seed 0]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cnnlab._io import save_npz_atomic
from cnnlab.data import paths
from cnnlab.data.cifar10_official import CLASSES
from cnnlab.data.images import load_image_tree

OUT = Path(__file__).resolve().parents[1] / "src" / "cnnlab" / "data" / "sample"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=paths.find("cifar10-jpeg.zip"))
    parser.add_argument("--out", type=Path, default=OUT / "cifar10_sample.npz")
    parser.add_argument("--train-per-class", type=int, default=50)
    parser.add_argument("--test-per-class", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.source is None:
        parser.error("cifar10-jpeg.zip not found in the data search folders; pass --source")
    data = load_image_tree(
        args.source,
        train_per_class=args.train_per_class,
        test_per_class=args.test_per_class,
        seed=args.seed,
        cache=False,
    )
    if data.classes != CLASSES:
        parser.error(f"{args.source} has classes {data.classes}, expected {CLASSES}")
    save_npz_atomic(
        args.out,
        compressed=True,
        X_train=data.X_train,
        y_train=data.y_train,
        X_test=data.X_test,
        y_test=data.y_test,
    )
    print(
        f"wrote {args.out}: {args.out.stat().st_size} bytes, {len(data.y_train)} train, "
        f"{len(data.y_test)} test images"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
