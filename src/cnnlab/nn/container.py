"""Containers and reshaping: Sequential, Residual and Flatten.

Sequential is a chain of layers, Residual a block plus a shortcut.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from cnnlab.functional.activation import relu_backward, relu_forward
from cnnlab.validation import check_batch_axis

from .module import Module


def describe(module: Module) -> str:
    """One-line description, e.g. ``Conv2d(3, 32, kernel_size=(7, 7), ...)``."""
    return f"{type(module).__name__}({module.extra_repr()})"


class Sequential(Module):
    """Layers applied one after the other; backward runs them in reverse.

    ``Sequential(layer0, layer1, ...)`` names the children "0", "1", ...;
    ``Sequential({"conv1": ..., "relu1": ...})`` gives them names. Indexable by position,
    slice or name, iterable, and ``len`` gives the number of layers.

    A ``ValueError`` raised inside a layer is re-raised with the layer's name, type and input
    shape in front, so a bad shape deep in a network says where it happened.

    Args:
        *layers: the layers in order, or a single mapping from names to layers.
    """

    def __init__(self, *layers: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], Mapping):
            for name, layer in layers[0].items():
                self.add_module(str(name), layer)
        else:
            for layer in layers:
                self.append(layer)

    def append(self, layer: Module, name: str | None = None) -> Sequential:
        """Add ``layer`` at the end, named ``name`` or by its position; returns ``self``."""
        self.add_module(str(len(self._modules)) if name is None else name, layer)
        return self

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Run ``x`` through every layer in order.

        Args:
            x: input of the first layer, e.g. (N, C, H, W).

        Returns:
            The output of the last layer.

        Raises:
            ValueError: a layer's error, prefixed with its name, type and input shape.
        """
        for name, layer in self._modules.items():
            try:
                x = layer.forward(x)
            except ValueError as err:
                raise ValueError(
                    f"layer {name!r} {describe(layer)} with input {np.shape(x)}: {err}"
                ) from err
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Run the layers' backward passes in reverse order.

        Args:
            dout: gradient shaped like the last forward output.

        Returns:
            dx, shaped like the last forward input; None when the first layer computed none
            (its ``input_grad`` False).
        """
        for layer in reversed(self._modules.values()):
            dout = layer.backward(dout)
            if dout is None:  # only a first layer may skip its input gradient
                break
        return dout

    def __getitem__(self, index: int | slice | str) -> Module:
        if isinstance(index, str):
            return self._modules[index]
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(dict(items[index]))
        return items[index][1]

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __len__(self) -> int:
        return len(self._modules)


class Residual(Module):
    """``out = relu(block(x) + shortcut(x))``.

    ``shortcut`` is None for the identity or a module (typically a strided 1x1 ``Conv2d``,
    perhaps followed by batch norm) that projects x to the block's output shape. ``relu=False``
    leaves out the final ReLU.

    Args:
        block: the main branch.
        shortcut: the projection, or None for the identity.
        relu: whether to apply the final ReLU.
    """

    def __init__(self, block: Module, shortcut: Module | None = None, relu: bool = True) -> None:
        super().__init__()
        self.add_module("block", block)
        if shortcut is not None:
            self.add_module("shortcut", shortcut)
        self.relu = relu
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Block and shortcut on ``x``, summed, then the ReLU.

        Args:
            x: input, e.g. (N, C, H, W).

        Returns:
            Output shaped like the block's output.

        Raises:
            ValueError: block and shortcut outputs of different shapes.
        """
        main = self._modules["block"].forward(x)
        skip = self._modules["shortcut"].forward(x) if "shortcut" in self._modules else x
        if main.shape != skip.shape:
            kind = "projection" if "shortcut" in self._modules else "identity"
            raise ValueError(
                f"Residual: block output {main.shape} does not match the {kind} shortcut's "
                f"{skip.shape} (input {x.shape}); use a projection shortcut"
            )
        out = main + skip
        if self.relu:
            out, self._cache = relu_forward(out)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Gradient through the ReLU, then the sum of the block's and the shortcut's dx.

        Args:
            dout: gradient shaped like the forward output.

        Returns:
            dx, shaped like the forward input.
        """
        if self.relu:
            dout = relu_backward(dout, self._cache)
        dx = self._modules["block"].backward(dout)
        if "shortcut" in self._modules:
            return dx + self._modules["shortcut"].backward(dout)
        return dx + dout

    def extra_repr(self) -> str:
        """The ``relu`` flag, for the module's repr."""
        return f"relu={self.relu}"


class Flatten(Module):
    """(N, d1, ..., dk) -> (N, d1 * ... * dk); backward restores the input shape."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Flatten every axis after the batch axis.

        Args:
            x: (N, d1, ..., dk) input.

        Returns:
            (N, d1 * ... * dk), a view of ``x`` where possible.

        Raises:
            ValueError: ``x`` without a batch axis.
        """
        check_batch_axis("Flatten", x, "input")
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Reshape dout (N, d1 * ... * dk) back to the forward input's (N, d1, ..., dk)."""
        return dout.reshape(self._shape)
