"""The ``Module`` base class: a layer with parameters, gradients and buffers.

A module computes ``out = forward(x)`` and, after it, ``dx = backward(dout)``; ``backward``
fills ``self.grads`` (same keys as ``self.params``) for the most recent ``forward``. Gradients
are overwritten, not accumulated.

Two kinds of module share this class:

- explicit modules (every layer, ``Sequential``, ``Residual``) write ``backward`` by hand, as
  CS231n teaches; an instance must then appear only once in a network (its backward keeps the
  cache of one forward);
- forward-only modules define ``forward`` alone, written with Tensor ops
  (:mod:`cnnlab.autograd.functional`, ``+ - * / @``, ...) and child modules called as
  ``self.child(x)``; their backward is the tape. Called with an array, such a module records the
  tape of its forward and returns an array; ``backward(dout)`` replays it, fills ``grads`` for
  every parameter the forward read (in the whole module tree) and returns dx. Called with a
  Tensor (inside another forward-only module, or by user code) it just adds its ops to the tape.
  An explicit module called with a Tensor becomes one step of the tape whose backward is its own.

Children and parameters are registered by attribute assignment, as in PyTorch:
``self.conv = Conv2d(...)`` adds a child, ``self.w = Parameter(array)`` a parameter. Inside a
forward pass ``self.w`` is the parameter's leaf Tensor, which aliases the array in
``self.params``, so optimiser updates of the array reach the next forward.

Containers hold child modules in ``self._modules``; every tree-wide operation (parameters,
train/eval, state dicts) walks that tree and names entries with dotted paths such as
``"block.0.weight"``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

import numpy as np

from cnnlab.autograd import Function, Tensor, is_grad_enabled

# (dotted name, owning module, local key)
Slot = tuple[str, "Module", str]


class _Recording:
    """What one forward-only module's forward pass has used so far.

    The parameter leaves ``{(id(module), key): (module, key, leaf)}`` and the explicit modules
    called as tape steps.
    """

    def __init__(self) -> None:
        self.leaves: dict[tuple[int, str], tuple[Module, str, Tensor]] = {}
        self.steps: set[int] = set()


# The recordings in progress, innermost last (a forward-only module inside an explicit
# container starts its own).
_RECORDINGS: list[_Recording] = []


class Parameter:
    """Marks an array as a trainable parameter of the Module attribute it is assigned to.

    ``self.weight = Parameter(np.zeros((3, 4)), decay=True)`` stores the array (aliased, not
    copied) in ``self.params["weight"]``; ``decay=True`` lists it for L2 regularisation (see
    ``Module.decay``). Floating-point arrays only.
    """

    __slots__ = ("data", "decay")

    def __init__(self, data: np.ndarray, decay: bool = False) -> None:
        self.data = np.asarray(data)
        if not np.issubdtype(self.data.dtype, np.floating):
            raise ValueError(f"Parameter: must be a floating-point array, got {self.data.dtype}")
        self.decay = bool(decay)


class Module:
    """Base class of every layer and container.

    Attributes:
        params: local trainable arrays, e.g. ``{"weight": (F, C, HH, WW), "bias": (F,)}``.
        grads: gradients of the last ``backward``, same keys and shapes as ``params``.
        buffers: local non-trainable state saved in ``state_dict`` (batch-norm running stats).
        training: True in training mode (dropout active, batch statistics), False in eval mode.
        decay: names of the local params that L2 regularisation (weight decay) applies to.
        input_grad: False when nothing needs the gradient of this module's input (a network's
            first layer, whose input is the data): ``backward`` then returns None, and skips
            the work where it can (layers with weights, forward-only modules), as PyTorch does
            for inputs without ``requires_grad``. :meth:`Classifier.loss
            <cnnlab.models.Classifier.loss>` sets it on its first layer while it runs.
    """

    decay: tuple[str, ...] = ()
    input_grad: bool = True

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training = True
        self._modules: dict[str, Module] = {}
        self._leaves: dict[str, Tensor] = {}  # parameter leaves for use outside a recording
        self._tape: tuple | None = None  # (input leaf, output, parameter leaves) of a recording

    # --- computation -------------------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        """The layer's output for the input ``x`` (a subclass defines it)."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """The backward pass of a forward-only module.

        Replays the tape its last forward recorded (and releases it).

        Args:
            dout: upstream gradient, shaped like the output of that forward.

        Returns:
            dx, shaped like the forward's input (None when ``input_grad`` was False during the
            forward). ``grads`` of every parameter the forward read (in this module or its
            children) are filled, keyed as ``params``.

        Raises:
            RuntimeError: without a recorded forward (none yet, already replayed, or run under
                ``no_grad``).
        """
        tape = self._tape
        if tape is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward: no recorded forward to differentiate (call "
                "forward first; each forward allows one backward, and no_grad records nothing)"
            )
        self._tape = None
        x, out, leaves = tape
        out.backward(dout)
        for module, key, leaf in leaves:
            module.grads[key] = np.zeros_like(leaf.data) if leaf.grad is None else leaf.grad
        if not self.input_grad:
            return None
        return np.zeros_like(x.data) if x.grad is None else x.grad

    def __call__(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        """Call ``forward(x)``.

        For a Tensor ``x`` and a module with an explicit backward, the call is one tape step whose
        backward is the module's own (see the module docstring).
        """
        if isinstance(x, Tensor) and not self._forward_only():
            if _RECORDINGS:
                steps = _RECORDINGS[-1].steps
                if id(self) in steps:
                    raise ValueError(
                        f"{type(self).__name__}: a layer with an explicit backward keeps the "
                        "cache of one call, so it can be called only once per forward pass; "
                        "to share its weights call a Tensor op (cnnlab.autograd.functional) "
                        "twice instead"
                    )
                steps.add(id(self))
            return self._as_function()(x, *(self._leaf(k) for k in self.params))
        return self.forward(x, *args, **kwargs)

    @classmethod
    def _forward_only(cls) -> bool:
        return cls.backward is Module.backward

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        forward = cls.__dict__.get("forward")
        if forward is not None and cls._forward_only():
            cls.forward = _recorded(forward)

    def _record(self, forward: Callable, x: Any, args: tuple, kwargs: dict) -> np.ndarray:
        """Run ``forward`` on ``x`` as a leaf Tensor, keep the tape, return the output array."""
        self._tape = None
        x = np.asarray(x)
        needed = self.input_grad and np.issubdtype(x.dtype, np.floating)
        leaf = Tensor(x, requires_grad=is_grad_enabled() and needed)
        _RECORDINGS.append(_Recording())
        try:
            out = forward(self, leaf, *args, **kwargs)
        finally:
            recording = _RECORDINGS.pop()
        if not isinstance(out, Tensor):
            raise ValueError(
                f"{type(self).__name__}.forward must return a Tensor (computed from its input "
                f"with Tensor ops), got {type(out).__name__}"
            )
        if out.requires_grad:
            self._tape = (leaf, out, list(recording.leaves.values()))
        return out.data

    def _leaf(self, key: str) -> Tensor:
        """The leaf Tensor of parameter ``key`` (aliasing ``params[key]``).

        One per recording, or, outside recordings, one kept until the array is replaced.
        """
        array = self.params[key]
        if _RECORDINGS:
            leaves, slot = _RECORDINGS[-1].leaves, (id(self), key)
            if slot not in leaves or leaves[slot][2].data is not array:
                leaves[slot] = (self, key, Tensor(array, requires_grad=True))
            return leaves[slot][2]
        leaf = self._leaves.get(key)
        if leaf is None or leaf.data is not array:
            leaf = self._leaves[key] = Tensor(array, requires_grad=True)
        return leaf

    def _as_function(self) -> Function:
        """This explicit module as one tape step: inputs (x, *params), backward its own."""
        keys = tuple(self.params)

        def forward(x: np.ndarray, *params: np.ndarray) -> tuple[np.ndarray, None]:
            return self.forward(x), None

        def backward(dout: np.ndarray, cache: None) -> tuple[np.ndarray, ...]:
            dx = self.backward(dout)
            return (dx, *(self.grads[k] for k in keys))

        return Function(type(self).__name__, forward, backward, arity=1 + len(keys))

    # --- attributes: children, parameters, buffers --------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, (Module, Parameter)):
            if "_modules" not in self.__dict__:
                raise AttributeError(
                    f"{type(self).__name__}: call super().__init__() before assigning {name!r}"
                )
            if isinstance(value, Module):
                self.add_module(name, value)
            else:
                self.register_parameter(name, value.data, decay=value.decay)
            return
        if isinstance(value, np.ndarray) and name in self.__dict__.get("params", ()):
            self.params[name] = value  # rebinding a parameter's array
            return
        self.__dict__.get("_modules", {}).pop(name, None)
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: children, parameters (as leaves), buffers
        d = self.__dict__
        if name in d.get("_modules", ()):
            return d["_modules"][name]
        if name in d.get("params", ()):
            return self._leaf(name)
        if name in d.get("buffers", ()):
            return d["buffers"][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def register_parameter(self, name: str, array: np.ndarray, decay: bool = False) -> None:
        """Add ``array`` (aliased) as the trainable parameter ``name``.

        ``decay`` lists it for L2 regularisation.
        """
        self.__dict__.pop(name, None)
        self.params[name] = np.asarray(array)
        if decay and name not in self.decay:
            self.decay = (*self.decay, name)

    def register_buffer(self, name: str, array: np.ndarray) -> None:
        """Add ``array`` (aliased) as the non-trainable state ``name`` (saved in state_dict)."""
        self.__dict__.pop(name, None)
        self.buffers[name] = np.asarray(array)

    # --- the module tree ---------------------------------------------------------------------
    def add_module(self, name: str, module: Module) -> Module:
        """Register ``module`` as a child called ``name`` and return it."""
        if not isinstance(module, Module):
            raise ValueError(f"{type(self).__name__}: child {name!r} is not a Module: {module!r}")
        self.__dict__.pop(name, None)
        self._modules[name] = module
        return module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct children as ``(attribute name, module)`` pairs, in registration order."""
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
        """Every trainable array of this module and its descendants as ``(dotted name, array)``."""
        for name, module, key in self.slots("params"):
            yield name, module.params[key]

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        """Every buffer (running statistics) of this module and its descendants by dotted name."""
        for name, module, key in self.slots("buffers"):
            yield name, module.buffers[key]

    def num_parameters(self) -> int:
        """The number of trainable scalars."""
        return sum(int(p.size) for _, p in self.named_parameters())

    def num_buffers(self) -> int:
        """The number of scalars in buffers."""
        return sum(int(b.size) for _, b in self.named_buffers())

    # --- modes and gradients -----------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Put this module and its descendants in training mode (False: test mode); returns self."""
        for _, module in self.named_modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Put this module and its descendants in test mode; returns self."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Zero every ``grads`` entry and reset the ``.grad`` of the kept parameter leaves."""
        for _, module, key in self.slots("params"):
            module.grads[key] = np.zeros_like(module.params[key])
            if key in module._leaves:
                module._leaves[key].grad = None

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
        """The layer's settings shown inside its repr (none by default)."""
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


def _recorded(forward: Callable) -> Callable:
    """Wrap a forward-only module's ``forward``.

    An array input starts a recording (see ``Module._record``), a Tensor input runs the ops onto the
    current tape.
    """

    @functools.wraps(forward)
    def entry(self: Module, x: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(x, Tensor) or not self._forward_only():
            return forward(self, x, *args, **kwargs)
        return self._record(forward, x, args, kwargs)

    return entry


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
