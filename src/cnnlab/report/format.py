"""Text for the report: escaping, percentages, durations, table cells, configuration entries."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from cnnlab.data.sample import LABEL as SAMPLE_LABEL
from cnnlab.report.run import as_number


def esc(value: Any) -> str:
    """``str(value)`` escaped for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def fmt_percent(value: Any) -> str:
    """A fraction in [0, 1] as a percentage with two decimals ("0.6234" -> "62.34 %")."""
    number = as_number(value)
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


def cell(value: Any) -> str:
    """A metrics.csv entry for the table.

    Integers as they are, other numbers to 4 significant digits, anything else as text.
    """
    number = as_number(value)
    if number is None:
        return "" if value is None else str(value)
    return str(int(number)) if number.is_integer() and "." not in str(value) else f"{number:.4g}"


def flatten(config: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, value) of every leaf of a nested configuration, in order."""
    rows: list[tuple[str, Any]] = []
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            rows.extend(flatten(value, f"{name}."))
        else:
            rows.append((name, value))
    return rows


def config_text(value: Any) -> str:
    """A configuration value as shown: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def model_name(config: Mapping[str, Any]) -> str | None:
    """The model's name from config.json, or None.

    Read from ``model``, ``model_name`` or ``name``, possibly a mapping with a ``name``.
    """
    for key in ("model", "model_name", "name"):
        value = config.get(key)
        if isinstance(value, Mapping):
            value = value.get("name")
        if isinstance(value, str):
            return value
    return None


def data_text(config: Mapping[str, Any], results: Mapping[str, Any]) -> str | None:
    """The data a run used, or None when neither results.json nor config.json says.

    Taken from results.json's ``data`` (e.g. "bundled sample (450/50/100)"), else from
    config.json's, with its split sizes when it recorded them.
    """
    if results.get("data") is not None:
        return str(results["data"])
    data = config.get("data")
    if data is None:
        return None
    name = SAMPLE_LABEL if data == "sample" else str(data)
    sizes = [config.get(f"num_{part}") for part in ("train", "val", "test")]
    if all(isinstance(n, int) for n in sizes):
        return f"{name} ({'/'.join(map(str, sizes))})"
    return name
