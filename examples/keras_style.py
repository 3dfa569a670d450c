"""The TensorFlow notebook's Part III (Keras Model API) on cnnlab's tape (seed 002).

``TwoLayerFC`` and ``ThreeLayerConvNet`` are cnnlab modules that define ``forward`` only, as a
``tf.keras.Model`` defines ``call``; the tape gives their backward pass. They take cnnlab's
layouts (NCHW images). ``train_part34`` trains a model for one epoch, printing the loss and the
validation accuracy every 100 iterations, as in the notebook:

- ``TwoLayerFC(4000, 10)`` with ``GradientDescentOptimizer(1e-2)`` (the notebook: 44.9 %);
- ``ThreeLayerConvNet(32, 16, 10)`` with ``MomentumOptimizer(5e-4, 0.9, use_nesterov=True)``
  (the notebook's Sequential version of it: 50.2 %).

The same models are in the registry: ``cnnlab train --model two_layer_fc`` and
``--model keras_three_layer``.

Run: ``python examples/keras_style.py [--model two_layer_fc|three_layer_convnet|both]
[--tiny]``; ``--tiny`` (or CNNLAB_TINY=1) uses the bundled sample for a few iterations.
"""

from __future__ import annotations

import argparse
import os
import sys

from cnnlab.compat.tf_notebook import (
    GradientDescentOptimizer,
    MomentumOptimizer,
    ThreeLayerConvNet,
    TwoLayerFC,
    check_accuracy,
    make_datasets,
    train_part34,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=["two_layer_fc", "three_layer_convnet", "both"])
    parser.add_argument("--tiny", action="store_true", help="bundled sample, a few iterations")
    parser.add_argument("--seed", type=int, default=0, help="weights and shuffling")
    args = parser.parse_args(argv)
    tiny = args.tiny or os.environ.get("CNNLAB_TINY") == "1"

    # name: (model_init_fn, optimizer_init_fn), the notebook's settings
    runs = {
        "two_layer_fc": (
            lambda: TwoLayerFC(4000, 10, seed=args.seed),
            lambda: GradientDescentOptimizer(1e-2),
        ),
        "three_layer_convnet": (
            lambda: ThreeLayerConvNet(32, 16, 10, seed=args.seed),
            lambda: MomentumOptimizer(5e-4, momentum=0.9, use_nesterov=True),
        ),
    }
    data = make_datasets("NCHW", sample=True if tiny else None, seed=args.seed)
    names = list(runs) if args.model in (None, "both") else [args.model]
    for name in names:
        print(f"== {name}")
        model, _ = train_part34(
            *runs[name],
            data=data,
            print_every=2 if tiny else 100,
            num_iterations=3 if tiny else None,
        )
        print("Final validation accuracy:", end=" ")
        check_accuracy(data.val, model.loss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
