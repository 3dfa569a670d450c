"""A training run's figures and its self-contained HTML report.

A run folder (written by ``cnnlab train``) may hold ``config.json``, ``history.json``,
``metrics.csv``, ``model.npz`` and/or ``checkpoint.npz``, ``results.json``, ``summary.txt`` and
``samples.npz``.
:func:`write_report` turns whatever of these is present into ``RUN/report.html``: one file with
the figures embedded as base64 PNG data URIs and inline CSS, which opens offline in any browser
(its Content-Security-Policy forbids every network fetch). Missing or unreadable pieces are left
out with a note saying why. :func:`write_figures` writes the same figures to ``RUN/figures/``.
"""

from __future__ import annotations

import base64
import csv
import datetime
import html
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cnnlab import __version__
from cnnlab.training.checkpoint import load_checkpoint
from cnnlab.viz._common import png_bytes, write_bytes_atomic
from cnnlab.viz.confusion import (
    per_class_accuracy,
    plot_confusion_images,
    plot_confusion_matrix,
    plot_per_class_accuracy,
)
from cnnlab.viz.curves import default_num_epochs, epoch_axis, plot_training_curves
from cnnlab.viz.grid import plot_filters
from cnnlab.viz.predictions import plot_predictions

RUN_FILES = (
    "config.json",
    "history.json",
    "metrics.csv",
    "checkpoint.npz",
    "results.json",
    "summary.txt",
    "samples.npz",
)
#: where the first-layer filters are looked for: the trained model alone, else the Solver state
WEIGHT_FILES = ("model.npz", "checkpoint.npz")
SAMPLE_KEYS = ("images", "y_true", "y_pred", "probs")
HISTORY_KEYS = ("loss_history", "train_acc_history", "val_acc_history", "lr_history")
REPORT_DPI = 120  # figures in the report are drawn at 1.2x and shown at 100 px per inch


@dataclass
class Run:
    """What could be read from a run folder; ``notes`` maps a file name to why it is absent."""

    path: Path
    config: dict[str, Any] | None = None
    history: dict[str, Any] | None = None
    metrics: list[dict[str, str]] | None = None
    results: dict[str, Any] | None = None
    summary: str | None = None
    filters: np.ndarray | None = None
    samples: dict[str, np.ndarray] | None = None
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def class_names(self) -> list[str] | None:
        names = (self.results or {}).get("class_names")
        return [str(name) for name in names] if isinstance(names, list) else None


# --- reading a run -------------------------------------------------------------------------
def _read_json_object(path: Path) -> dict[str, Any]:
    value = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, found {type(value).__name__}")
    return value


def _read_metrics(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def first_layer_filters(arrays: Mapping[str, np.ndarray]) -> np.ndarray:
    """The first 4-D array (F, C, HH, WW) with C of 1 or 3: the first convolution's weights.

    Optimiser state (names under ``optim/``, e.g. Adam's moments, which have the weights'
    shapes) is skipped.
    """
    for name, value in arrays.items():
        if not name.startswith("optim/") and value.ndim == 4 and value.shape[1] in (1, 3):
            return value
    raise ValueError("no 4-D weight array with 1 or 3 input channels")


def _read_samples(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        missing = [key for key in SAMPLE_KEYS if key not in archive.files]
        if missing:
            raise ValueError(f"missing arrays {missing}")
        return {key: archive[key] for key in SAMPLE_KEYS}


_READERS: dict[str, tuple[str, Callable[[Path], Any]]] = {
    "config.json": ("config", _read_json_object),
    "history.json": ("history", _read_json_object),
    "metrics.csv": ("metrics", _read_metrics),
    "results.json": ("results", _read_json_object),
    "summary.txt": ("summary", lambda p: p.read_text(encoding="utf-8")),
    "samples.npz": ("samples", _read_samples),
}


def load_run(run_dir: str | os.PathLike) -> Run:
    """Read every known file of a run folder; each missing or unreadable one gets a note.

    Raises FileNotFoundError when ``run_dir`` is not a folder and ValueError when it holds
    none of the run files.
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise FileNotFoundError(f"no run folder at {path}")
    if not any((path / name).is_file() for name in RUN_FILES):
        raise ValueError(f"{path} is not a run folder: it holds none of {', '.join(RUN_FILES)}")
    run = Run(path)
    for name, (attribute, reader) in _READERS.items():
        file = path / name
        if not file.is_file():
            run.notes[name] = f"{name} is not in the run folder"
            continue
        try:
            setattr(run, attribute, reader(file))
        except (OSError, ValueError, KeyError) as err:
            run.notes[name] = f"{name} could not be read: {err}"
    _check_history(run)
    _check_results(run)
    _load_filters(run)
    return run


def _check_history(run: Run) -> None:
    """Drop from ``run.history`` the series that are not lists of numbers, with a note."""
    history = run.history or {}
    bad = [
        key
        for key in HISTORY_KEYS
        if key in history
        and history[key] is not None
        and not (
            isinstance(history[key], list) and all(_number(v) is not None for v in history[key])
        )
    ]
    for key in bad:
        del history[key]
    if bad:
        run.notes["history.json"] = f"history.json: {', '.join(bad)} not a list of numbers"


def _check_results(run: Run) -> None:
    """Drop from ``run.results`` the class-level entries of the wrong shape, with a note."""
    results = run.results or {}
    k = len(results["class_names"]) if isinstance(results.get("class_names"), list) else None
    problems = []
    for key, ndim in (("confusion", 2), ("per_class_acc", 1)):
        if key not in results:
            continue
        try:
            value = np.asarray(results[key], dtype=np.float64)
        except (TypeError, ValueError):
            value = None
        size = k if k is not None else (None if value is None else value.shape[0])
        if value is None or value.shape != (size,) * ndim or size == 0:
            problems.append(
                f"{key} is not a {' x '.join(['K'] * ndim)} array for the "
                f"{k if k is not None else 'K'} classes"
            )
            del results[key]
    if problems:
        run.notes["results.json"] = "results.json: " + "; ".join(problems)


def _load_filters(run: Run) -> None:
    """Set ``run.filters`` from the first of :data:`WEIGHT_FILES` that has them, else a note."""
    problems = []
    for name in WEIGHT_FILES:
        file = run.path / name
        if not file.is_file():
            continue
        try:
            run.filters = first_layer_filters(load_checkpoint(file)[0])
            return
        except (OSError, ValueError, KeyError) as err:
            problems.append(f"{name}: {err}")
    run.notes["weights"] = (
        "; ".join(problems)
        if problems
        else f"neither {' nor '.join(WEIGHT_FILES)} is in the run folder"
    )


# --- figures -------------------------------------------------------------------------------
def _num_epochs(run: Run) -> int | None:
    """Epochs trained: results.json's ``epochs_run``, else the rows of metrics.csv."""
    given = _number((run.results or {}).get("epochs_run"))
    if given is not None:
        return int(given)
    return len(run.metrics) if run.metrics else None


def _confusion(run: Run) -> np.ndarray | None:
    confusion = (run.results or {}).get("confusion")
    return None if confusion is None else np.asarray(confusion)


def _class_accuracy(run: Run) -> np.ndarray | None:
    accuracy = (run.results or {}).get("per_class_acc")
    if accuracy is not None:
        return np.asarray(accuracy, dtype=np.float64)
    confusion = _confusion(run)
    return None if confusion is None else per_class_accuracy(confusion)


def _figure_makers(run: Run, dpi: float) -> dict[str, tuple[str, Callable[[], Figure] | None]]:
    """name -> (what it needs, a maker or None when that is missing)."""
    names = run.class_names
    samples = run.samples
    confusion = _confusion(run)
    accuracy = _class_accuracy(run)
    return {
        "curves": (
            "history.json",
            run.history
            and (lambda: plot_training_curves(run.history, num_epochs=_num_epochs(run), dpi=dpi)),
        ),
        "confusion": (
            "a confusion matrix in results.json",
            confusion is not None and (lambda: plot_confusion_matrix(confusion, names, dpi=dpi)),
        ),
        "per_class": (
            "per-class accuracy in results.json",
            accuracy is not None and (lambda: plot_per_class_accuracy(accuracy, names, dpi=dpi)),
        ),
        "filters": (
            "model weights",
            run.filters is not None and (lambda: plot_filters(run.filters, dpi=dpi)),
        ),
        "predictions": (
            "samples.npz",
            samples is not None
            and (
                lambda: plot_predictions(
                    samples["images"],
                    samples["y_true"],
                    samples["y_pred"],
                    samples["probs"],
                    names,
                    dpi=dpi,
                )
            ),
        ),
        "confusion_images": (
            "samples.npz",
            samples is not None
            and (
                lambda: plot_confusion_images(
                    samples["images"],
                    samples["y_true"],
                    samples["y_pred"],
                    names,
                    num_classes=samples["probs"].shape[-1],
                    dpi=dpi,
                )
            ),
        ),
    }


def make_figures(run: Run, dpi: float = 100) -> tuple[dict[str, Figure], dict[str, str]]:
    """Every figure the run's files allow, and a note for each one that could not be made."""
    figures: dict[str, Figure] = {}
    notes: dict[str, str] = {}
    for name, (needs, maker) in _figure_makers(run, dpi).items():
        if not maker:
            notes[name] = f"not drawn: needs {needs}"
            continue
        try:
            figures[name] = maker()
        except (ValueError, KeyError, IndexError) as err:
            notes[name] = f"not drawn: {err}"
    return figures, notes


def write_figures(run_dir: str | os.PathLike) -> list[Path]:
    """Write every figure of a run as ``RUN/figures/<name>.png``; return the paths written."""
    run = load_run(run_dir)
    figures, _ = make_figures(run)
    return [
        write_bytes_atomic(run.path / "figures" / f"{name}.png", png_bytes(fig))
        for name, fig in figures.items()
    ]


# --- formatting ----------------------------------------------------------------------------
def esc(value: Any) -> str:
    """``str(value)`` escaped for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def fmt_percent(value: Any) -> str:
    """A fraction in [0, 1] as a percentage with two decimals ("0.6234" -> "62.34 %")."""
    number = _number(value)
    return "n/a" if number is None else f"{100 * number:.2f} %"


def fmt_duration(seconds: float | None) -> str:
    """Seconds as "12.3 s", "4m 05s" or "2h 03m"."""
    if seconds is None:
        return "n/a"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    return f"{minutes // 60}h {minutes % 60:02d}m"


def _wall_time(run: Run) -> float | None:
    """results.json's ``wall_time_s`` or ``train_seconds`` if given, else the sum of
    metrics.csv's per-epoch ``seconds``."""
    for key in ("wall_time_s", "train_seconds"):
        given = _number((run.results or {}).get(key))
        if given is not None:
            return given
    seconds = [_number(row.get("seconds")) for row in run.metrics or ()]
    return sum(seconds) if seconds and None not in seconds else None


def _cell(value: Any) -> str:
    """A metrics.csv entry for the table: integers as they are, other numbers to 4 significant
    digits, anything else as text."""
    number = _number(value)
    if number is None:
        return "" if value is None else str(value)
    return str(int(number)) if number.is_integer() and "." not in str(value) else f"{number:.4g}"


def _flatten(config: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            rows.extend(_flatten(value, f"{name}."))
        else:
            rows.append((name, value))
    return rows


def _config_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _model_name(config: Mapping[str, Any]) -> str | None:
    for key in ("model", "model_name", "name"):
        value = config.get(key)
        if isinstance(value, Mapping):
            value = value.get("name")
        if isinstance(value, str):
            return value
    return None


# --- HTML pieces ---------------------------------------------------------------------------
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
            f'<td class="{"num" if n else ""}">{esc(cell)}</td>'
            for cell, n in zip(row, numeric, strict=True)
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
        epochs = _num_epochs(self.run)
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
        cards.append(_card("Wall time", fmt_duration(_wall_time(self.run))))
        return f'<div class="cards">{"".join(cards)}</div>'

    def header(self) -> str:
        config = self.run.config or {}
        data = (self.run.results or {}).get("data", config.get("data"))
        facts = [("model", _model_name(config)), ("data", data)]
        for key in ("optimizer", "lr", "batch_size", "seed"):
            if key in config and not isinstance(config[key], Mapping):
                facts.append((key.replace("_", " "), config[key]))
        line = " &middot; ".join(f"{esc(k)}: <b>{esc(v)}</b>" for k, v in facts if v is not None)
        return (
            f'<header><div class="wrap"><div class="kicker">cnnlab training report</div>'
            f'<h1>{esc(self.run.path.name)}</h1><p class="facts">{line}</p>'
            f"{self.cards()}</div></header>"
        )

    def curves(self) -> str:
        body = self.file_note("history.json") + self.figure("curves", "Training curves")
        if self.run.metrics:
            header = list(self.run.metrics[0].keys())
            rows = [[_cell(row.get(key)) for key in header] for row in self.run.metrics]
            numeric = [all(_number(row[i]) is not None for row in rows) for i in range(len(header))]
            table = _table(header, rows, numeric, "compact")
            body += (
                f"<details{' open' if len(rows) <= 15 else ''}><summary>Per-epoch metrics "
                f"({len(rows)} epochs, metrics.csv)</summary>{table}</details>"
            )
        else:
            body += self.file_note("metrics.csv")
        return _section("curves", "Training", body)

    def class_table(self) -> str:
        accuracy = _class_accuracy(self.run)
        if accuracy is None:
            return ""
        names = self.run.class_names or [str(k) for k in range(len(accuracy))]
        confusion = _confusion(self.run)
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
        body += (
            '<div class="row"><div class="wide">'
            + self.figure("confusion", "Confusion matrix")
            + "</div><div>"
            + self.figure("per_class", "Per-class accuracy")
            + self.class_table()
            + "</div></div>"
        )
        return _section("classes", "Results by class", body)

    def predictions(self) -> str:
        body = self.file_note("samples.npz")
        body += (
            '<div class="row"><div>'
            + self.figure("predictions", "Sample predictions")
            + "</div><div>"
            + self.figure("confusion_images", "Sample images by (true, predicted) class")
            + "</div></div>"
        )
        return _section("predictions", "Sample test predictions", body)

    def model(self) -> str:
        if self.run.summary is None:
            summary = self.file_note("summary.txt")
        else:
            summary = f'<pre class="summary">{esc(self.run.summary.rstrip())}</pre>'
        filters = self.file_note("weights") + self.figure("filters", "First-layer filters")
        body = f'<div class="row"><div class="wide">{summary}</div><div>{filters}</div></div>'
        return _section("model", "Model and first-layer filters", body)

    def config(self) -> str:
        if self.run.config is None:
            body = self.file_note("config.json")
        else:
            items = "".join(
                f'<div><span class="key">{esc(key)}</span>'
                f'<span class="value">{esc(_config_text(value))}</span></div>'
                for key, value in _flatten(self.run.config)
            )
            body = f'<div class="config">{items}</div>'
        return _section("config", "Configuration", body)

    def html(self) -> str:
        sections = [self.curves(), self.classes(), self.predictions(), self.model(), self.config()]
        nav = "".join(
            f'<a href="#{a}">{esc(t)}</a>'
            for a, t in (
                ("curves", "Training"),
                ("classes", "By class"),
                ("predictions", "Predictions"),
                ("model", "Model and filters"),
                ("config", "Configuration"),
            )
        )
        made = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "img-src data:; style-src 'unsafe-inline'\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(self.run.path.name)} - cnnlab report</title>"
            f"<style>{_CSS}</style></head><body>{self.header()}"
            f'<nav><div class="wrap">{nav}</div></nav><main class="wrap">{"".join(sections)}'
            f'</main><footer class="wrap">Made by cnnlab {esc(__version__)} on {esc(made)} '
            f"from {esc(self.run.path)}</footer></body></html>\n"
        )


_CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --accent: #0b4f8a;
  --paper: #ffffff; --bg: #f4f6f9; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
.wrap { max-width: 1360px; margin: 0 auto; padding: 0 24px; }
header { background: linear-gradient(135deg, #0b3d6b, #13669e); color: #fff;
  padding: 22px 0 24px; }
.kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 12px; opacity: .8; }
h1 { margin: 2px 0 4px; font-size: 28px; font-weight: 650; word-break: break-all; }
.facts { margin: 0 0 16px; opacity: .92; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(155px, 1fr));
  gap: 12px; }
.card { background: rgba(255, 255, 255, .12); border: 1px solid rgba(255, 255, 255, .25);
  border-radius: 10px; padding: 10px 14px; }
.card .label { font-size: 11.5px; text-transform: uppercase; letter-spacing: .05em;
  opacity: .85; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.card .value { font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
.card .detail { font-size: 12px; opacity: .85; }
nav { background: var(--paper); border-bottom: 1px solid var(--line); position: sticky;
  top: 0; z-index: 1; }
nav a { display: inline-block; padding: 10px 14px 10px 0; margin-right: 10px;
  color: var(--accent); text-decoration: none; font-weight: 550; }
nav a:hover { text-decoration: underline; }
section { background: var(--paper); border: 1px solid var(--line); border-radius: 10px;
  padding: 6px 22px 20px; margin: 20px 0; }
h2 { font-size: 20px; margin: 14px 0 12px; color: var(--accent); }
figure { margin: 0 0 12px; }
img { max-width: 100%; height: auto; display: block; }
.row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.row > div { flex: 1 1 460px; min-width: 0; }
.row > div.wide { flex: 1.3 1 600px; }
table { border-collapse: collapse; margin: 8px 0 4px; font-size: 14px;
  font-variant-numeric: tabular-nums; }
th, td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; }
th { background: #eef2f7; font-weight: 600; }
td.num, th.num { text-align: right; }
tbody tr:nth-child(even) { background: #f8fafc; }
.config { display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr));
  gap: 0 24px; font-size: 14px; }
.config > div { display: flex; justify-content: space-between; gap: 12px; padding: 5px 2px;
  border-bottom: 1px solid var(--line); }
.config .key { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
  color: var(--muted); }
.config .value { text-align: right; word-break: break-word; font-weight: 550; }
details summary { cursor: pointer; color: var(--accent); font-weight: 550; margin: 6px 0; }
pre.summary { background: #0f1720; color: #e6edf3; padding: 14px 16px; border-radius: 8px;
  overflow-x: auto; font: 13px/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas,
  monospace; }
.note { color: #8a5a00; background: #fff7e0; border: 1px solid #f3d98b; border-radius: 6px;
  padding: 6px 10px; display: inline-block; margin: 4px 0 10px; }
footer { color: var(--muted); font-size: 13px; padding-bottom: 28px; }
"""


def write_report(run_dir: str | os.PathLike) -> Path:
    """Write the run's self-contained report to ``RUN/report.html`` (atomically); return its
    path. Raises FileNotFoundError / ValueError when ``run_dir`` is not a run folder."""
    run = load_run(run_dir)
    figures, notes = make_figures(run, dpi=REPORT_DPI)
    page = _Page(run, figures, notes).html()
    return write_bytes_atomic(run.path / "report.html", page.encode("utf-8"))
