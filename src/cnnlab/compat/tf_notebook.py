"""The TensorFlow notebook (seeds 000 and 002, CS231n assignment 2) on cnnlab's tape.

The notebook's names and shapes, with the tape in TensorFlow's place: a forward function
written with Tensor ops is all a model needs; ``loss.backward()`` does what ``tf.gradients``
did, and ``no_grad()`` marks the weight update as ``tf.assign_sub`` did.

Barebones style (Part II)::

    data = make_datasets()                      # 49,000 / 1,000 / 10,000, batches of 64
    train(two_layer_fc, two_layer_fc_init, 1e-2, data)
    train(three_layer_convnet, three_layer_convnet_init, 3e-3, data)

Keras style (Part III)::

    train_part34(lambda: TwoLayerFC(4000, 10), lambda: GradientDescentOptimizer(1e-2))

Layouts, exactly:

- the barebones functions keep the notebook's layouts: images x (N, H, W, C), conv kernels
  (KH, KW, Cin, Cout), and the fully connected weight of ``three_layer_convnet`` has its rows
  in (H, W, C) order, as TensorFlow's flatten of an NHWC tensor gives them. The convolutions
  transpose on the tape (x to (N, C, H, W), kernels to (Cout, Cin, KH, KW), the result back to
  NHWC), so gradients come back in the notebook's layouts too;
- the Keras-style models (:class:`TwoLayerFC`, :class:`ThreeLayerConvNet`, from
  :mod:`cnnlab.models.keras_style`) are cnnlab modules and take cnnlab's layouts: images
  (N, C, H, W), conv weights (F, C, KH, KW), linear weights (in, out).

:func:`make_datasets` gives each style its layout; the preprocessing is the notebook's
(per-channel mean and standard deviation of the training images, via
:func:`cnnlab.data.load_cifar10`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from cnnlab.autograd import Tensor, as_tensor, no_grad
from cnnlab.autograd import functional as F
from cnnlab.autograd.functional import flatten
from cnnlab.data import Dataset, load_cifar10
from cnnlab.data import paths as data_paths
from cnnlab.data.cifar10 import SEARCHED_NAMES
from cnnlab.models.classifier import Classifier
from cnnlab.models.keras_style import ThreeLayerConvNet, TwoLayerFC
from cnnlab.nn import Module
from cnnlab.nn.init import as_generator
from cnnlab.training import optim

__all__ = [
    "GradientDescentOptimizer",
    "MomentumOptimizer",
    "NotebookData",
    "ThreeLayerConvNet",
    "TwoLayerFC",
    "check_accuracy",
    "flatten",
    "kaiming_normal",
    "make_datasets",
    "three_layer_convnet",
    "three_layer_convnet_init",
    "train",
    "train_part34",
    "training_step",
    "two_layer_fc",
    "two_layer_fc_init",
]

Seed = np.random.Generator | int | None
#: One validation check of a training run: {"iteration", "loss", "val_acc"}.
History = list[dict[str, float]]

# --- data ---------------------------------------------------------------------------------------


class NotebookData(NamedTuple):
    """The notebook's three datasets (``train_dset`` shuffled, batches of 64)."""

    train: Dataset
    val: Dataset
    test: Dataset


#: The notebook's cut of CIFAR-10, and the one used for the bundled sample (500 / 100 images).
FULL_SPLIT = (49000, 1000, 10000)
SAMPLE_SPLIT = (400, 100, 100)


def _full_data_found() -> bool:
    """Whether a CIFAR-10 copy is in one of the folders cnnlab searches."""
    return any(
        (folder / name).exists() for folder in data_paths.search_dirs() for name in SEARCHED_NAMES
    )


def make_datasets(
    layout: str = "NHWC",
    sample: bool | None = None,
    batch_size: int = 64,
    seed: int = 0,
    dtype: type = np.float32,
) -> NotebookData:
    """The notebook's ``load_cifar10`` followed by its three ``Dataset`` objects.

    Args:
        layout: 'NHWC' (the notebook's, for the barebones functions) or 'NCHW' (cnnlab's, for
            the Keras-style modules).
        sample: use the sample bundled with cnnlab, split 400 / 100 / 100; None uses it only
            when no CIFAR-10 copy is found (the full data gives 49,000 / 1,000 / 10,000).
        batch_size: images per batch (the notebook's 64).
        seed: seed of the training set's shuffling.
        dtype: dtype of the images.

    Returns:
        ``NotebookData(train, val, test)``; images normalised per channel with the mean and
        standard deviation of the training images, labels int64.
    """
    if sample is None:
        sample = not _full_data_found()
    n_train, n_val, n_test = SAMPLE_SPLIT if sample else FULL_SPLIT
    X_train, y_train, X_val, y_val, X_test, y_test = load_cifar10(
        n_train, n_val, n_test, layout=layout, source="sample" if sample else None, dtype=dtype
    )
    return NotebookData(
        Dataset(X_train, y_train, batch_size, shuffle=True, seed=seed),
        Dataset(X_val, y_val, batch_size),
        Dataset(X_test, y_test, batch_size),
    )


# --- barebones: initialisation and the two networks ---------------------------------------------


def kaiming_normal(shape: Sequence[int], seed: Seed = None, dtype: type = np.float32) -> np.ndarray:
    """The notebook's ``kaiming_normal``: N(0, 1) times ``sqrt(2 / fan_in)``.

    Args:
        shape: (D, M) for a fully connected weight (fan_in = D) or (KH, KW, Cin, Cout) for a
            TensorFlow conv kernel (fan_in = KH * KW * Cin).
        seed: seed or generator to draw from.
        dtype: dtype of the result.

    Returns:
        Array of ``shape``.

    Raises:
        ValueError: for a shape that is neither 2-D nor 4-D.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) not in (2, 4):
        raise ValueError(f"kaiming_normal: shape must be 2-D or 4-D, got {shape}")
    fan_in = int(np.prod(shape[:-1]))
    return (as_generator(seed).standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def _variables(*arrays: np.ndarray) -> list[Tensor]:
    """The arrays as leaf Tensors that require grad (the notebook's ``tf.Variable``)."""
    return [Tensor(a, requires_grad=True) for a in arrays]


def _unpack(name: str, params: Sequence[Any], names: tuple[str, ...]) -> list[Tensor]:
    if len(params) != len(names):
        raise ValueError(f"{name}: params must be [{', '.join(names)}], got {len(params)} items")
    return [as_tensor(p) for p in params]


def two_layer_fc(x: Tensor | np.ndarray, params: Sequence[Tensor]) -> Tensor:
    """Fully connected - relu - fully connected, no biases.

    Args:
        x: (N, d1, ..., dM) inputs with d1 * ... * dM = D.
        params: [w1 (D, H), w2 (H, C)].

    Returns:
        Scores (N, C) on the tape.

    Raises:
        ValueError: for a wrong number of params (and the ops' shape errors).
    """
    w1, w2 = _unpack("two_layer_fc", params, ("w1", "w2"))
    h = F.relu(flatten(x) @ w1)
    return h @ w2


def two_layer_fc_init(
    hidden_size: int = 4000, input_dim: int = 3 * 32 * 32, num_classes: int = 10, seed: Seed = None
) -> list[Tensor]:
    """The notebook's two weight matrices as leaf Tensors, Kaiming-normal, float32.

    [w1 (input_dim, hidden_size), w2 (hidden_size, num_classes)] (the notebook: 3072 -> 4000 -> 10).
    """
    rng = as_generator(seed)
    return _variables(
        kaiming_normal((input_dim, hidden_size), rng),
        kaiming_normal((hidden_size, num_classes), rng),
    )


def _nchw_kernel(w: Tensor) -> Tensor:
    """A TensorFlow kernel (KH, KW, Cin, Cout) as cnnlab's (Cout, Cin, KH, KW), on the tape."""
    return w.transpose(3, 2, 0, 1)


def _conv_nhwc(x: Tensor, w: Tensor, b: Tensor, pad: int) -> Tensor:
    """Stride-1 convolution with zero padding ``pad`` of x (N, H, W, Cin) by a TensorFlow kernel.

    The kernel is w (KH, KW, Cin, Cout), plus b (Cout,); returns (N, H', W', Cout).
    """
    out = F.conv2d(x.transpose(0, 3, 1, 2), _nchw_kernel(w), b, padding=pad)
    return out.transpose(0, 2, 3, 1)


_CONVNET_PARAMS = ("conv_w1", "conv_b1", "conv_w2", "conv_b2", "fc_w", "fc_b")


def three_layer_convnet(x: Tensor | np.ndarray, params: Sequence[Tensor]) -> Tensor:
    """Conv - relu - conv - relu - fully connected, in the notebook's layouts.

    The first conv has zero padding 2, the second zero padding 1; every layer has a bias.

    Args:
        x: (N, H, W, 3) images (NHWC).
        params: [conv_w1 (KH1, KW1, 3, channel_1), conv_b1 (channel_1,),
            conv_w2 (KH2, KW2, channel_1, channel_2), conv_b2 (channel_2,),
            fc_w (H' * W' * channel_2, C) with rows in (H', W', channel_2) order,
            fc_b (C,)] - with the notebook's 5x5 and 3x3 kernels H' = H and W' = W.

    Returns:
        Scores (N, C) on the tape.

    Raises:
        ValueError: for a wrong number of params or x that is not (N, H, W, Cin) with the
            first kernel's Cin (and the ops' shape errors).
    """
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = _unpack(
        "three_layer_convnet", params, _CONVNET_PARAMS
    )
    x = as_tensor(x)
    if x.ndim != 4 or conv_w1.ndim != 4 or x.shape[3] != conv_w1.shape[2]:
        raise ValueError(
            f"three_layer_convnet: x {x.shape} must be NHWC (N, H, W, Cin) with the Cin of "
            f"conv_w1 {conv_w1.shape} (KH, KW, Cin, Cout)"
        )
    h = F.relu(_conv_nhwc(x, conv_w1, conv_b1, 2))
    h = F.relu(_conv_nhwc(h, conv_w2, conv_b2, 1))
    return F.linear(h, fc_w, fc_b)


def three_layer_convnet_init(
    channel_1: int = 32,
    channel_2: int = 16,
    num_classes: int = 10,
    image_shape: tuple[int, int, int] = (32, 32, 3),
    seed: Seed = None,
) -> list[Tensor]:
    """The notebook's parameter list for :func:`three_layer_convnet`, as leaf Tensors.

    conv_w1 (5, 5, C, channel_1), conv_b1 zeros, conv_w2 (3, 3, channel_1, channel_2),
    conv_b2 zeros, fc_w (H * W * channel_2, num_classes), fc_b zeros; weights
    Kaiming-normal, float32. ``image_shape`` is (H, W, C).
    """
    h, w, c = image_shape
    rng = as_generator(seed)
    zeros = np.zeros
    return _variables(
        kaiming_normal((5, 5, c, channel_1), rng),
        zeros(channel_1, np.float32),
        kaiming_normal((3, 3, channel_1, channel_2), rng),
        zeros(channel_2, np.float32),
        kaiming_normal((h * w * channel_2, num_classes), rng),
        zeros(num_classes, np.float32),
    )


# --- barebones: training ------------------------------------------------------------------------


def check_accuracy(dset: Dataset, scores_fn: Callable[[np.ndarray], Any]) -> float:
    """Accuracy of a model on a dataset, printed as the notebook does.

    Args:
        dset: batches (x, y).
        scores_fn: x batch -> scores (N, C), a Tensor or an array (e.g.
            ``lambda x: two_layer_fc(x, params)``, a module, or a Classifier's ``loss``);
            run under ``no_grad``.

    Returns:
        The fraction correct; prints ``Got N / M correct (P%)``.
    """
    num_correct, num_samples = 0, 0
    with no_grad():
        for x_batch, y_batch in dset:
            scores = scores_fn(x_batch)
            scores = scores.data if isinstance(scores, Tensor) else np.asarray(scores)
            num_correct += int((scores.argmax(axis=1) == y_batch).sum())
            num_samples += x_batch.shape[0]
    acc = num_correct / num_samples
    print(f"Got {num_correct} / {num_samples} correct ({100 * acc:.2f}%)")
    return acc


def training_step(
    scores: Tensor, y: np.ndarray, params: Sequence[Tensor], learning_rate: float
) -> float:
    """One SGD step; returns the loss before the step.

    The mean softmax cross-entropy of scores (N, C) for labels y (N,), its gradients with respect to
    ``params`` (leaf Tensors), and ``w -= learning_rate * dw`` in place.
    """
    loss = F.cross_entropy(scores, y)
    loss.backward()
    with no_grad():
        for w in params:
            if w.grad is not None:
                w.data -= learning_rate * w.grad
            w.grad = None
    return loss.item()


def _run(
    step: Callable[[np.ndarray, np.ndarray], float],
    scores_fn: Callable[[np.ndarray], Any],
    data: NotebookData,
    num_epochs: int,
    print_every: int,
    num_iterations: int | None,
    announce_epochs: bool,
) -> History:
    """The notebook's loop: ``step`` on every training batch.

    Every ``print_every`` iterations the loss is printed and the validation accuracy checked. Stops
    after ``num_iterations`` steps if given.
    """
    history: History = []
    t = 0
    for epoch in range(num_epochs):
        if announce_epochs:
            print(f"Starting epoch {epoch}")
        for x_np, y_np in data.train:
            loss = step(x_np, y_np)
            if t % print_every == 0:
                print(f"Iteration {t}, loss = {loss:.4f}")
                acc = check_accuracy(data.val, scores_fn)
                history.append({"iteration": t, "loss": loss, "val_acc": acc})
                if announce_epochs:
                    print()
            t += 1
            if num_iterations is not None and t >= num_iterations:
                return history
    return history


def train(
    model_fn: Callable[[Tensor, Sequence[Tensor]], Tensor],
    init_fn: Callable[[], Sequence[Tensor]],
    learning_rate: float,
    data: NotebookData | None = None,
    num_epochs: int = 1,
    print_every: int = 100,
    num_iterations: int | None = None,
) -> tuple[list[Tensor], History]:
    """The notebook's ``train`` / ``train_part2``: plain SGD over the training batches.

    Args:
        model_fn: ``scores = model_fn(x, params)`` with x an NHWC batch.
        init_fn: ``params = init_fn()``, a list of leaf Tensors.
        learning_rate: the SGD step size.
        data: the datasets (NHWC); None loads :func:`make_datasets` ``('NHWC')``.
        num_epochs: passes over the training set (the notebook: one).
        print_every: iterations between printed losses and validation checks.
        num_iterations: stop after this many steps (None: run every epoch).

    Returns:
        ``(params, history)``: the trained parameters and one entry per validation check.
    """
    data = make_datasets("NHWC") if data is None else data
    params = list(init_fn())

    def step(x: np.ndarray, y: np.ndarray) -> float:
        return training_step(model_fn(x, params), y, params, learning_rate)

    history = _run(
        step,
        lambda x: model_fn(x, params),
        data,
        num_epochs,
        print_every,
        num_iterations,
        announce_epochs=False,
    )
    return params, history


# --- Keras style: optimisers and train_part34 ---------------------------------------------------


class _Optimizer:
    """Applies one of :mod:`cnnlab.training.optim`'s update rules to every parameter.

    It keeps a state (velocity, moments) per parameter name.
    """

    rule = "sgd"

    def __init__(self, **hyperparameters: Any) -> None:
        self.hyperparameters = hyperparameters
        self.configs: dict[str, dict[str, Any]] = {}

    def step(
        self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]
    ) -> None:
        """Update ``params[name]`` from ``grads[name]`` for every name in ``grads``."""
        update = optim.get_rule(self.rule)
        for name, dw in grads.items():
            config = self.configs.setdefault(name, dict(self.hyperparameters))
            params[name], self.configs[name] = update(params[name], dw, config)


class GradientDescentOptimizer(_Optimizer):
    """``tf.train.GradientDescentOptimizer(learning_rate)``: ``w -= learning_rate * dw``."""

    rule = "sgd"

    def __init__(self, learning_rate: float) -> None:
        super().__init__(learning_rate=learning_rate)


class MomentumOptimizer(_Optimizer):
    """``tf.train.MomentumOptimizer(learning_rate, momentum, use_nesterov)``.

    TensorFlow's accumulator form (``a = momentum a + dw``; ``w -= lr a``, or with Nesterov
    ``w -= lr (dw + momentum a)``) takes the same steps as cnnlab's ``sgd_momentum`` (velocity
    ``v = -lr a``) for a constant learning rate, which is what runs here.
    """

    rule = "sgd_momentum"

    def __init__(self, learning_rate: float, momentum: float, use_nesterov: bool = False) -> None:
        super().__init__(learning_rate=learning_rate, momentum=momentum, nesterov=use_nesterov)


def train_part34(
    model_init_fn: Callable[[], Module | Classifier],
    optimizer_init_fn: Callable[[], _Optimizer],
    num_epochs: int = 1,
    data: NotebookData | None = None,
    print_every: int = 100,
    num_iterations: int | None = None,
) -> tuple[Classifier, History]:
    """The notebook's ``train_part34`` for Keras-style models.

    Args:
        model_init_fn: returns the model: a module mapping (N, C, H, W) images to scores
            (e.g. ``TwoLayerFC(4000, 10)``), which is wrapped in a softmax
            :class:`~cnnlab.models.Classifier`, or a Classifier.
        optimizer_init_fn: returns a :class:`GradientDescentOptimizer` or
            :class:`MomentumOptimizer`.
        num_epochs: passes over the training set.
        data: the datasets (NCHW); None loads :func:`make_datasets` ``('NCHW')``.
        print_every: iterations between printed losses and validation checks.
        num_iterations: stop after this many steps (None: run every epoch).

    Returns:
        ``(model, history)``: the trained Classifier and one entry per validation check.
    """
    data = make_datasets("NCHW") if data is None else data
    model = model_init_fn()
    if not isinstance(model, Classifier):
        model = Classifier(model, dtype=next(iter(model.named_parameters()))[1].dtype.type)
    optimizer = optimizer_init_fn()

    def step(x: np.ndarray, y: np.ndarray) -> float:
        loss, grads = model.loss(x, y)
        optimizer.step(model.params, grads)
        return float(loss)

    history = _run(step, model.loss, data, num_epochs, print_every, num_iterations, True)
    return model, history
