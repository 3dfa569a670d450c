"""Seed 004, part 3.1.5: the small MNIST network built from the graph ops, trained by SGD.

The network (one 28 x 28 x 1 image at a time, HWC)::

    conv5x5(16) -> avgpool2 -> relu -> conv5x5(16) -> avgpool2 -> relu -> conv3x3(10) -> avgpool2
    -> softmax cross-entropy          (28 -> 24 -> 12 -> 8 -> 4 -> 2 -> 1)

As in the seed: ten images drawn once, 20 iterations over them with learning rate 0.2, each
image a forward pass through every op and then, in reverse order, each op's backward pass
followed at once by its gradient step; the loss printed per iteration is the sum over the ten
images. The seed drew its batch from the MNIST training set; only the test set (t10k) ships with
this project, so the images come from there. Afterwards every op is checked against PyTorch with
the seed's ``cmp_ops`` (skipped, with a note, where PyTorch is not installed).

Data: the MNIST IDX files are looked for in ``$CNNLAB_DATA``, ``../shared/data`` and the cache
(:mod:`cnnlab.data.paths`).

Run: ``python examples/seed004_graph_mnist.py [--steps 20] [--seed 0]``
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from cnnlab.compat.seed004 import (
    OpAvgPool,
    OpConv2D,
    OpRelu,
    OpSoftmaxCrossEntropyLoss,
    Variable,
    cmp_ops,
)
from cnnlab.data.mnist import load_mnist


def build_network(inputs: Variable, true_label: Variable, rng: np.random.Generator) -> list:
    """The seed's ops_list: op1 ... op9 over an (28, 28, 1) input."""
    op1 = OpConv2D(16, 5, inputs, rng=rng)  # 28 - 5 + 1 = 24
    op2 = OpAvgPool(2, op1)  # 12
    op3 = OpRelu(op2)
    op4 = OpConv2D(16, 5, op3, rng=rng)  # 8
    op5 = OpAvgPool(2, op4)  # 4
    op6 = OpRelu(op5)
    op7 = OpConv2D(10, 3, op6, rng=rng)  # 2
    op8 = OpAvgPool(2, op7)  # 1
    op9 = OpSoftmaxCrossEntropyLoss(op8, true_label)
    return [op1, op2, op3, op4, op5, op6, op7, op8, op9]


def train(ops, inputs, true_label, batch_x, batch_y, num_its, learning_rate) -> list[float]:
    """The seed's loop; returns the summed loss of the batch for each iteration."""
    loss_list = []
    for it in range(num_its):
        loss_of_batch = 0.0
        for image, label in zip(batch_x, batch_y, strict=True):
            inputs.value = np.reshape(image, (28, 28, 1))
            true_label.value = label
            for op in ops:
                op.forward()
            loss_of_batch += float(ops[-1].value[0])
            for op in reversed(ops):
                op.backward()
                op.gradient_step(learning_rate)
        loss_list.append(loss_of_batch)
        print(f"Iteration {it} Loss: {loss_of_batch:.6f}")
    return loss_list


def compare_ops(ops) -> None:
    """``cmp_ops`` on each op at its current input, PyTorch written out as the seed does."""
    import torch
    from torch.nn import functional as tF

    for index, op in enumerate(ops, start=1):
        print(f"\nop{index}: {type(op).__name__}")
        image = np.asarray(op.inputs.value, dtype=np.float64)
        t_in = torch.tensor(image.transpose(2, 0, 1)[None], requires_grad=True)
        weights = None
        if isinstance(op, OpConv2D):
            weights = torch.tensor(op.weights.transpose(0, 3, 1, 2).copy(), requires_grad=True)
            t_op = tF.conv2d(t_in, weights)
        elif isinstance(op, OpRelu):
            t_op = tF.relu(t_in)
        elif isinstance(op, OpAvgPool):
            t_op = tF.avg_pool2d(t_in, op.cell_size)  # every cell is whole in this network
        else:
            label = torch.tensor([int(op.true_label.value)])
            t_op = tF.cross_entropy(t_in.reshape(1, -1), label, reduction="none")
        cmp_ops(op, t_op, t_in, weights)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="SGD iterations (seed: 20)")
    parser.add_argument("--batch-size", type=int, default=10, help="images (seed: 10)")
    parser.add_argument("--lr", type=float, default=0.2, help="learning rate (seed: 0.2)")
    parser.add_argument("--seed", type=int, default=0, help="weights and batch choice")
    parser.add_argument("--no-compare", action="store_true", help="skip the PyTorch checks")
    args = parser.parse_args(argv)

    try:
        X, y = load_mnist()
    except FileNotFoundError as err:
        print(
            "seed004_graph_mnist: MNIST is not bundled with cnnlab and was not found; put "
            "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz in $CNNLAB_DATA/mnist "
            f"(or ../shared/data/mnist).\n  ({err})",
            file=sys.stderr,
        )
        return 1

    rng = np.random.default_rng(args.seed)
    pick = rng.choice(len(X), size=args.batch_size, replace=False)
    batch_x, batch_y = X[pick].astype(np.float64) / 255.0, y[pick]

    inputs, true_label = Variable(), Variable()
    inputs.value = rng.normal(size=(28, 28, 1))
    ops = build_network(inputs, true_label, rng)
    train(ops, inputs, true_label, batch_x, batch_y, args.steps, args.lr)

    if args.no_compare:
        return 0
    try:
        compare_ops(ops)
    except ImportError as err:
        print(f"\nPyTorch checks skipped: {err}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
