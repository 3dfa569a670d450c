"""The ``Module`` base class: a layer with parameters, gradients and buffers.

A module computes ``out = forward(x)`` and, after it, ``dx = backward(dout)``; ``backward``
fills ``self.grads`` (same keys as ``self.params``) for the most recent ``forward``. Gradients
are overwritten, not accumulated, so a module instance must appear only once in a network.

Containers (``Sequential``, ``Residual``, ...) hold child modules in ``self._modules``; every
tree-wide operation (parameters, train/eval, state dicts) walks that tree and names entries with
dotted paths such as ``"block.0.weight"``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping

import numpy as np

# (dotted name, owning module, local key)
Slot = tuple[str, "Module", str]


class Module:
    """Base class of every layer and container.

    Attributes:
        params: local trainable arrays, e.g. ``{"weight": (F, C, HH, WW), "bias": (F,)}``.
        grads: gradients of the last ``backward``, same keys and shapes as ``params``.
        buffers: local non-trainable state saved in ``state_dict`` (batch-norm running stats).
        training: True in training mode (dropout active, batch statistics), False in eval mode.
        decay: names of the local params that L2 regularisation (weight decay) applies to.
    """

    decay: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training = True
        self._modules: dict[str, Module] = {}

    # --- computation -------------------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    # --- the module tree ---------------------------------------------------------------------
    def add_module(self, name: str, module: Module) -> Module:
        """Register ``module`` as a child called ``name`` and return it."""
        if not isinstance(module, Module):
            raise ValueError(f"{type(self).__name__}: child {name!r} is not a Module: {module!r}")
        self._modules[name] = module
        return module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module (as ``prefix``) and every descendant, depth first."""
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def slots(self, kind: str = "params") -> Iterator[Slot]:
        """``(dotted name, module, local key)`` of every entry of ``kind`` (params or buffers)."""
        for path, module in self.named_modules():
            for key in getattr(module, kind):
                yield (f"{path}.{key}" if path else key), module, key

    def named_parameters(self) -> Iterator[tuple[str, np.ndarray]]:
        for name, module, key in self.slots("params"):
            yield name, module.params[key]

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        for name, module, key in self.slots("buffers"):
            yield name, module.buffers[key]

    def num_parameters(self) -> int:
        return sum(int(p.size) for _, p in self.named_parameters())

    def num_buffers(self) -> int:
        return sum(int(b.size) for _, b in self.named_buffers())

    # --- modes and gradients -----------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        for _, module in self.named_modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self) -> None:
        for _, module, key in self.slots("params"):
            module.grads[key] = np.zeros_like(module.params[key])

    # --- state -------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, keyed by dotted name."""
        return state_dict_of(list(self.slots("params")) + list(self.slots("buffers")))

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Copy ``state`` into the parameters and buffers in place (the arrays keep identity)."""
        load_state_into(
            list(self.slots("params")) + list(self.slots("buffers")), state, type(self).__name__
        )

    # --- printing ----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        head = f"{type(self).__name__}({self.extra_repr()})"
        if not self._modules:
            return head
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in self._modules.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append(")")
        return "\n".join(lines)


def _store(module: Module, key: str) -> dict[str, np.ndarray]:
    return module.params if key in module.params else module.buffers


def state_dict_of(slots: list[Slot]) -> dict[str, np.ndarray]:
    """Copies of the arrays behind ``slots``, keyed by their names."""
    return {name: _store(module, key)[key].copy() for name, module, key in slots}


def load_state_into(slots: list[Slot], state: Mapping[str, np.ndarray], owner: str) -> None:
    """Check ``state`` against ``slots`` (keys and shapes), then copy it in place.

    Raises:
        ValueError: naming the missing / unexpected keys, or the key whose shapes differ.
    """
    names = [name for name, _, _ in slots]
    missing = [n for n in names if n not in state]
    unexpected = [k for k in state if k not in set(names)]
    if missing or unexpected:
        raise ValueError(
            f"{owner}.load_state_dict: missing keys {missing}, unexpected keys {unexpected}"
        )
    for name, module, key in slots:
        target = _store(module, key)[key]
        value = np.asarray(state[name])
        if value.shape != target.shape:
            raise ValueError(
                f"{owner}.load_state_dict: shape mismatch for {name!r}: the model has "
                f"{target.shape}, the state dict has {value.shape}"
            )
    for name, module, key in slots:
        np.copyto(_store(module, key)[key], np.asarray(state[name]), casting="unsafe")


class SlotDict(MutableMapping):
    """A dict-like view of arrays that live in modules' ``params`` (or ``grads``) dicts.

    Reading ``view[k]`` returns the module's current array; assigning ``view[k] = a`` replaces the
    module's array (``a`` must have the same shape and is cast to the module's dtype), so update
    rules that rebind (``params[k] = next_w``, as the CS231n Solver does) and ones that update in
    place both reach the layers. The key set is fixed.
    """

    def __init__(self, slots: list[Slot], kind: str = "params") -> None:
        self._slots = {name: (module, key) for name, module, key in slots}
        self._kind = kind

    def _dict(self, name: str) -> tuple[dict[str, np.ndarray], str]:
        if name not in self._slots:
            raise KeyError(name)
        module, key = self._slots[name]
        return getattr(module, self._kind), key

    def __getitem__(self, name: str) -> np.ndarray:
        store, key = self._dict(name)
        return store[key]

    def __setitem__(self, name: str, value: np.ndarray) -> None:
        store, key = self._dict(name)
        old = store.get(key)
        value = np.asarray(value)
        if old is not None and value.shape != old.shape:
            raise ValueError(
                f"{self._kind}[{name!r}]: shape {value.shape} does not match {old.shape}"
            )
        store[key] = value if old is None else value.astype(old.dtype, copy=False)

    def __delitem__(self, name: str) -> None:
        raise TypeError(f"cannot delete {name!r}: the set of {self._kind} is fixed")

    def __iter__(self) -> Iterator[str]:
        return iter(self._slots)

    def __len__(self) -> int:
        return len(self._slots)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k!r}: {self[k].shape}" for k in self._slots if k in self)
        return f"{{{shapes}}}"

    def __contains__(self, name: object) -> bool:
        if name not in self._slots:
            return False
        module, key = self._slots[name]
        return key in getattr(module, self._kind)
