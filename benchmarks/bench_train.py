"""One training epoch of the ThreeLayerConvNet: cnnlab vs PyTorch CPU, side by side.

The same network (conv 7x7, 32 filters, pad 3 - relu - 2x2 max pool - affine 100 - relu -
affine 10 - softmax), the same batches (batch 50), forward + backward + Adam, float32, in one
process, alternating between the two frameworks in chunks so that background load hits both
alike. Prints seconds per epoch (extrapolated from the measured chunks when --iters < 980) and
the ratio, then a profile of where cnnlab's time goes.

    python benchmarks/bench_train.py                # 980 iterations each (one full epoch)
    python benchmarks/bench_train.py --iters 200    # quicker
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import time
from pathlib import Path

import numpy as np
import torch

from cnnlab.models import ThreeLayerConvNet
from cnnlab.training import optim

EPOCH_ITERS = 980  # 49,000 images / batch 50


def cnnlab_step_fn(model, configs):
    """One forward/backward/Adam step of a cnnlab model."""

    def step(X, y):
        loss, grads = model.loss(X, y)
        for name, w in model.params.items():
            next_w, configs[name] = optim.adam(w, grads[name], configs[name])
            w[...] = next_w
        return loss

    return step


def torch_step_fn(hidden: int):
    """The same network and step in PyTorch."""
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 32, 7, padding=3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(32 * 16 * 16, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, 10),
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(X, y):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(X), y)
        loss.backward()
        opt.step()
        return float(loss.detach())

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=EPOCH_ITERS)
    parser.add_argument("--chunk", type=int, default=49)
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--profile-iters", type=int, default=100)
    parser.add_argument("--json", default="benchmarks/out/train.json")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.chunk * 50, 3, 32, 32)).astype(np.float32) * 60
    y = rng.integers(0, 10, size=args.chunk * 50)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    model = ThreeLayerConvNet(hidden_dim=args.hidden, reg=1e-3, seed=0)
    ours = cnnlab_step_fn(model, {k: {"learning_rate": 1e-3} for k in model.params})
    theirs = torch_step_fn(args.hidden)
    for fn, data in ((ours, (X, y)), (theirs, (Xt, yt))):  # warm-up
        fn(data[0][:50], data[1][:50])

    times = {"cnnlab": 0.0, "torch": 0.0}
    done = 0
    while done < args.iters:
        n = min(args.chunk, args.iters - done)
        for name, fn, (Xs, ys) in (("cnnlab", ours, (X, y)), ("torch", theirs, (Xt, yt))):
            start = time.perf_counter()
            for i in range(n):
                fn(Xs[i * 50 : (i + 1) * 50], ys[i * 50 : (i + 1) * 50])
            times[name] += time.perf_counter() - start
        done += n
    per_epoch = {k: v / args.iters * EPOCH_ITERS for k, v in times.items()}
    ratio = per_epoch["cnnlab"] / per_epoch["torch"]
    print(
        f"iterations measured: {args.iters} (batch 50, hidden {args.hidden}, float32, "
        f"torch threads {torch.get_num_threads()})"
    )
    for k, v in per_epoch.items():
        print(f"{k:>7}: {v:6.1f} s per epoch of {EPOCH_ITERS} iterations")
    print(f"  ratio cnnlab / torch: {ratio:.2f}")

    prof = cProfile.Profile()
    prof.enable()
    for i in range(args.profile_iters):
        j = i % args.chunk
        ours(X[j * 50 : (j + 1) * 50], y[j * 50 : (j + 1) * 50])
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(15)
    print(f"\nwhere cnnlab's time goes ({args.profile_iters} iterations, by own time):")
    print("\n".join(out.getvalue().splitlines()[6:26]))

    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"iters": args.iters, "seconds_per_epoch": per_epoch, "ratio": ratio}, indent=2)
    )


if __name__ == "__main__":
    main()
