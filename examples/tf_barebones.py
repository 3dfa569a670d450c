"""The TensorFlow notebook's Part II ("barebones") on cnnlab's tape (seeds 000 and 002).

Each model is a forward function over a list of parameters in the notebook's layouts (NHWC
images, (KH, KW, Cin, Cout) kernels); ``loss.backward()`` gives the gradients that
``tf.gradients`` gave, and ``train`` takes plain SGD steps over batches of 64, printing the loss
and the validation accuracy every 100 iterations:

- ``two_layer_fc``: 3072 -> 4000 -> 10, no biases, Kaiming-normal, SGD 1e-2 (the notebook
  reaches 44.6 % after one epoch);
- ``three_layer_convnet``: conv 32 5x5 - relu - conv 16 3x3 - relu - fc, SGD 3e-3 (the
  notebook asks for more than 43 % after one epoch).

Data: CIFAR-10 (49,000 / 1,000 / 10,000, normalised per channel as in the notebook) from the
folders cnnlab searches, else the bundled sample.

Run: ``python examples/tf_barebones.py [--model two_layer_fc|three_layer_convnet|both]
[--tiny]``; ``--tiny`` (or CNNLAB_TINY=1) uses the bundled sample for a few iterations.
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial

from cnnlab.compat.tf_notebook import (
    check_accuracy,
    make_datasets,
    three_layer_convnet,
    three_layer_convnet_init,
    train,
    two_layer_fc,
    two_layer_fc_init,
)

# name: (model_fn, init_fn, the notebook's learning rate)
MODELS = {
    "two_layer_fc": (two_layer_fc, two_layer_fc_init, 1e-2),
    "three_layer_convnet": (three_layer_convnet, three_layer_convnet_init, 3e-3),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=[*MODELS, "both"], default="both")
    parser.add_argument("--tiny", action="store_true", help="bundled sample, a few iterations")
    parser.add_argument("--seed", type=int, default=0, help="weights and shuffling")
    args = parser.parse_args(argv)
    tiny = args.tiny or os.environ.get("CNNLAB_TINY") == "1"

    data = make_datasets("NHWC", sample=True if tiny else None, seed=args.seed)
    names = list(MODELS) if args.model == "both" else [args.model]
    for name in names:
        model_fn, init_fn, learning_rate = MODELS[name]
        print(f"== {name}, SGD {learning_rate:g}")
        params, _ = train(
            model_fn,
            partial(init_fn, seed=args.seed),
            learning_rate,
            data,
            print_every=2 if tiny else 100,
            num_iterations=3 if tiny else None,
        )
        print("Final validation accuracy:", end=" ")
        check_accuracy(data.val, lambda x, f=model_fn, p=params: f(x, p))
    return 0


if __name__ == "__main__":
    sys.exit(main())
