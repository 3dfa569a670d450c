"""The report page: one self-contained HTML file about a training run.

The page skeleton and its CSS are the package file ``template.html`` (a :class:`string.Template`);
the pieces filled into it (cards, tables, figures as base64 PNG data URIs) are built here from a
:class:`~cnnlab.report.run.Run` and its figures. Every string that comes from the run is
escaped, and the page's Content-Security-Policy forbids every fetch, so it opens offline.
"""

from __future__ import annotations

import base64
import datetime
import os
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cnnlab import __version__
from cnnlab.report.figures import make_figures
from cnnlab.report.format import (
    cell,
    config_text,
    data_text,
    esc,
    flatten,
    fmt_duration,
    fmt_percent,
    model_name,
)
from cnnlab.report.run import Run, as_number, load_run
from cnnlab.viz._common import png_bytes, write_bytes_atomic
from cnnlab.viz.curves import default_num_epochs, epoch_axis

TEMPLATE = Template(resources.files(__package__).joinpath("template.html").read_text("utf-8"))
REPORT_DPI = 120  # figures in the report are drawn at 1.2x and shown at 100 px per inch
#: the navigation bar: (section anchor, link text)
NAV = (
    ("curves", "Training"),
    ("classes", "By class"),
    ("predictions", "Predictions"),
    ("model", "Model and filters"),
    ("config", "Configuration"),
)


def _img(fig: Figure, alt: str) -> str:
    data = base64.b64encode(png_bytes(fig)).decode("ascii")
    width = round(fig.get_figwidth() * 100)
    return (
        f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}" width="{width}" loading="eager">'
    )


def _note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def _table(
    header: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[bool], css: str = ""
) -> str:
    head = "".join(
        f'<th class="{"num" if n else ""}">{esc(h)}</th>'
        for h, n in zip(header, numeric, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if n else ""}">{esc(value)}</td>'
            for value, n in zip(row, numeric, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _card(label: str, value: str, detail: str = "") -> str:
    extra = f'<div class="detail">{esc(detail)}</div>' if detail else ""
    return (
        f'<div class="card"><div class="label">{esc(label)}</div>'
        f'<div class="value">{esc(value)}</div>{extra}</div>'
    )


def _row(left: str, right: str, wide: bool = False) -> str:
    """Two columns side by side (stacked on a narrow screen); ``wide``: the left one wider."""
    css = ' class="wide"' if wide else ""
    return f'<div class="row"><div{css}>{left}</div><div>{right}</div></div>'


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{esc(title)}</h2>{body}</section>'


class _Page:
    """Builds the report's sections from a run and its figures."""

    def __init__(self, run: Run, figures: dict[str, Figure], notes: dict[str, str]) -> None:
        self.run, self.figures, self.notes = run, figures, notes

    def figure(self, name: str, alt: str) -> str:
        if name in self.figures:
            return f"<figure>{_img(self.figures[name], alt)}</figure>"
        return _note(f"{alt}: {self.notes.get(name, 'not available')}")

    def file_note(self, file: str) -> str:
        return _note(self.run.notes[file]) if file in self.run.notes else ""

    def cards(self) -> str:
        results = self.run.results or {}
        history = self.run.history or {}
        val_history = [float(v) for v in history.get("val_acc_history") or ()]
        cards = [
            _card("Test accuracy", fmt_percent(results.get("test_acc"))),
            _card("Val accuracy", fmt_percent(results.get("val_acc"))),
        ]
        epochs = self.run.num_epochs
        if val_history:
            best = int(np.argmax(val_history))
            try:
                axis = epoch_axis(len(val_history), epochs or default_num_epochs(history))
                where = f"epoch {axis[best]}"
            except ValueError:  # more values than epochs: say nothing rather than guess
                where = ""
            cards.append(_card("Best val accuracy", fmt_percent(val_history[best]), where))
        train = history.get("train_acc_history") or []
        if train:
            cards.append(_card("Train accuracy", fmt_percent(train[-1])))
        losses = history.get("loss_history") or []
        if losses:
            cards.append(
                _card("Iterations", f"{len(losses):,}", f"last loss {float(losses[-1]):.4f}")
            )
        if epochs:
            cards.append(
                _card(
                    "Epochs", str(epochs), "stopped early" if results.get("stopped_early") else ""
                )
            )
        cards.append(_card("Wall time", fmt_duration(self.run.wall_time)))
        return f'<div class="cards">{"".join(cards)}</div>'

    def facts(self) -> str:
        """The line under the title: model, data and the main training options."""
        config = self.run.config or {}
        facts = [("model", model_name(config)), ("data", data_text(config, self.run.results or {}))]
        for key in ("optimizer", "lr", "batch_size", "seed"):
            if key in config and not isinstance(config[key], Mapping):
                facts.append((key.replace("_", " "), config[key]))
        return " &middot; ".join(f"{esc(k)}: <b>{esc(v)}</b>" for k, v in facts if v is not None)

    def curves(self) -> str:
        body = self.file_note("history.json") + self.figure("curves", "Training curves")
        if self.run.metrics:
            header = list(self.run.metrics[0].keys())
            rows = [[cell(row.get(key)) for key in header] for row in self.run.metrics]
            numeric = [
                all(as_number(row[i]) is not None for row in rows) for i in range(len(header))
            ]
            table = _table(header, rows, numeric, "compact")
            body += (
                f"<details{' open' if len(rows) <= 15 else ''}><summary>Per-epoch metrics "
                f"({len(rows)} epochs, metrics.csv)</summary>{table}</details>"
            )
        else:
            body += self.file_note("metrics.csv")
        return _section("curves", "Training", body)

    def class_table(self) -> str:
        accuracy = self.run.class_accuracy
        if accuracy is None:
            return ""
        names = self.run.class_names or [str(k) for k in range(len(accuracy))]
        confusion = self.run.confusion
        header = ["class", "accuracy"]
        rows: list[list[Any]] = [[n, fmt_percent(a)] for n, a in zip(names, accuracy, strict=False)]
        if confusion is not None and confusion.shape == (len(rows), len(rows)):
            header += ["right / total", "most often taken for"]
            for k, row in enumerate(rows):
                counts = confusion[k]
                off = counts.astype(np.float64).copy()
                off[k] = -1
                worst = int(np.argmax(off))
                row += [
                    f"{counts[k]:g} / {counts.sum():g}",
                    f"{names[worst]} ({counts[worst]:g})" if off[worst] > 0 else "-",
                ]
        numeric = [False, True, True, False][: len(header)]
        return _table(header, rows, numeric, "classes")

    def classes(self) -> str:
        body = self.file_note("results.json")
        body += _row(
            self.figure("confusion", "Confusion matrix"),
            self.figure("per_class", "Per-class accuracy") + self.class_table(),
            wide=True,
        )
        return _section("classes", "Results by class", body)

    def predictions(self) -> str:
        body = self.file_note("samples.npz")
        body += _row(
            self.figure("predictions", "Sample predictions"),
            self.figure("confusion_images", "Sample images by (true, predicted) class"),
        )
        if "confidence_cases" in self.figures:
            body += _note(
                "The same samples by the probability of the predicted class (the model's "
                "confidence), most and least confident of the right and of the wrong predictions; "
                "loss is -log p(true class), the sample's share of the cross-entropy."
            )
        body += self.figure("confidence_cases", "Right/wrong x high/low confidence")
        return _section("predictions", "Sample test predictions", body)

    def model(self) -> str:
        if self.run.summary is None:
            summary = self.file_note("summary.txt")
        else:
            summary = f'<pre class="summary">{esc(self.run.summary.rstrip())}</pre>'
        filters = self.file_note("weights") + self.figure("filters", "First-layer filters")
        body = _row(summary, filters, wide=True)
        return _section("model", "Model and first-layer filters", body)

    def config(self) -> str:
        if self.run.config is None:
            body = self.file_note("config.json")
        else:
            items = "".join(
                f'<div><span class="key">{esc(key)}</span>'
                f'<span class="value">{esc(config_text(value))}</span></div>'
                for key, value in flatten(self.run.config)
            )
            body = f'<div class="config">{items}</div>'
        return _section("config", "Configuration", body)

    def html(self) -> str:
        """The whole page: :data:`TEMPLATE` filled in."""
        sections = [self.curves(), self.classes(), self.predictions(), self.model(), self.config()]
        nav = "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in NAV)
        made = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return TEMPLATE.substitute(
            title=esc(self.run.path.name),
            facts=self.facts(),
            cards=self.cards(),
            nav=nav,
            sections="".join(sections),
            version=esc(__version__),
            made=esc(made),
            source=esc(self.run.path),
        )


def write_report(run_dir: str | os.PathLike) -> Path:
    """Write the run's self-contained report to ``RUN/report.html`` (atomically).

    Returns:
        The path written.

    Raises:
        FileNotFoundError: ``run_dir`` is not a folder.
        ValueError: ``run_dir`` holds none of the run files.
    """
    run = load_run(run_dir)
    figures, notes = make_figures(run, dpi=REPORT_DPI)
    page = _Page(run, figures, notes).html()
    return write_bytes_atomic(run.path / "report.html", page.encode("utf-8"))
