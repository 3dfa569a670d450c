"""Progress output of the Solver.

A tqdm bar per epoch on a terminal, CS231n-style lines in logs and notebooks, or nothing.
"""

from __future__ import annotations

import sys

from tqdm import tqdm


class Progress:
    """Silent reporter; the base of the others. Iterations ``t`` count from 1."""

    def __init__(self, num_epochs: int, num_iterations: int, print_every: int) -> None:
        self.num_epochs = num_epochs
        self.num_iterations = num_iterations
        self.print_every = max(int(print_every), 1)

    def start_epoch(self, epoch: int, done: int, total: int) -> None:
        """Epoch ``epoch`` (0-based) begins with ``done`` of its ``total`` iterations done."""

    def step(self, t: int, loss: float, lr: float | None) -> None:
        """Iteration ``t`` finished with minibatch loss ``loss`` at learning rate ``lr``."""

    def end_epoch(self, epoch: int, train_acc: float, val_acc: float) -> None:
        """Accuracies measured after ``epoch`` completed epochs."""

    def message(self, text: str) -> None:
        """A one-off line (early stopping, interruption, checkpoint)."""

    def close(self) -> None:
        """Training stopped."""


def _epoch_line(epoch: int, num_epochs: int, train_acc: float, val_acc: float) -> str:
    return f"(Epoch {epoch} / {num_epochs}) train acc: {train_acc:f}; val_acc: {val_acc:f}"


class LineProgress(Progress):
    """Prints ``(Iteration t / T) loss: ...`` every ``print_every`` iterations.

    It also prints a line per epoch, as CS231n's Solver does.
    """

    def step(self, t: int, loss: float, lr: float | None) -> None:
        """Print the loss of iteration ``t`` when it is the first of a ``print_every`` block."""
        if (t - 1) % self.print_every == 0:
            print(f"(Iteration {t} / {self.num_iterations}) loss: {loss:f}", flush=True)

    def end_epoch(self, epoch: int, train_acc: float, val_acc: float) -> None:
        """Print the epoch's line with its training and validation accuracies."""
        print(_epoch_line(epoch, self.num_epochs, train_acc, val_acc), flush=True)

    def message(self, text: str) -> None:
        """Print ``text`` as a line of its own."""
        print(text, flush=True)


class BarProgress(Progress):
    """One tqdm bar per epoch showing the loss and the learning rate."""

    bar: tqdm | None = None

    def start_epoch(self, epoch: int, done: int, total: int) -> None:
        """Close the previous bar and open one of ``total`` steps, ``done`` of them filled."""
        self.close()
        self.bar = tqdm(
            total=total,
            initial=done,
            file=sys.stdout,
            leave=True,
            desc=f"epoch {epoch + 1}/{self.num_epochs}",
            dynamic_ncols=True,
        )

    def step(self, t: int, loss: float, lr: float | None) -> None:
        """Advance the bar by one and show ``loss`` (and ``lr`` when known) beside it."""
        if self.bar is not None:
            postfix = {"loss": f"{loss:.4f}"} | ({} if lr is None else {"lr": f"{lr:.3g}"})
            self.bar.set_postfix(postfix, refresh=False)
            self.bar.update(1)

    def end_epoch(self, epoch: int, train_acc: float, val_acc: float) -> None:
        """Close the epoch's bar and write the epoch's accuracy line below it."""
        self.close()
        self.message(_epoch_line(epoch, self.num_epochs, train_acc, val_acc))

    def message(self, text: str) -> None:
        """Write ``text`` above the bar, through tqdm so that the bar is not broken."""
        tqdm.write(text, file=sys.stdout)

    def close(self) -> None:
        """Close the open bar, if any."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def make_progress(
    verbose: bool, bar: bool | None, num_epochs: int, num_iterations: int, print_every: int
) -> Progress:
    """The reporter to use.

    The silent :class:`Progress` if not verbose; a bar if ``bar`` (default: stdout is a
    terminal); else plain lines.
    """
    if not verbose:
        kind: type[Progress] = Progress
    elif bar if bar is not None else sys.stdout.isatty():
        kind = BarProgress
    else:
        kind = LineProgress
    return kind(num_epochs, num_iterations, print_every)
