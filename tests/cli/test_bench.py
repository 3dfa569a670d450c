"""``cnnlab bench``: the op speed table, with and without PyTorch (small max-pool cases only)."""

from __future__ import annotations

import json
import math
import sys

import pytest

from cnnlab.benchmark import select_cases
from cnnlab.cli import main

POOL_SMALL = "maxpool 2x2/2 100x3x32x32"
POOL_BIG = "maxpool 2x2/2 64x64x32x32"


def table_rows(out: str) -> list[dict]:
    """The data rows of the printed table: case, dtype, mode and the seven numeric cells."""
    rows = []
    for line in out.splitlines():
        if not line.startswith("maxpool "):
            continue
        tokens = line.split()
        cells = [None if t == "-" else float(t) for t in tokens[-7:]]
        keys = ("naive", "fast", "torch", "fast/torch", "naive/fast", "gf_fast", "gf_torch")
        rows.append(
            {"case": " ".join(tokens[:-9]), "dtype": tokens[-9], "mode": tokens[-8]}
            | dict(zip(keys, cells, strict=True))
        )
    return rows


def positive(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value > 0


def test_bench_maxpool_table_and_json(capsys, tmp_path):
    path = tmp_path / "sub" / "ops.json"
    argv = ["bench", "--quick", "--case", "maxpool", "--dtype", "float32", "--json", str(path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    rows = table_rows(out)
    expected = [(c, m) for c in (POOL_SMALL, POOL_BIG) for m in ("fwd", "fwd+bwd")]
    assert [(r["case"], r["mode"]) for r in rows] == expected
    for r in rows:
        assert r["dtype"] == "float32"
        assert positive(r["fast"]) and positive(r["torch"]) and positive(r["fast/torch"])
        # the naive max pool is timed on the seed's small case only; no GFLOPS for pooling
        assert positive(r["naive"]) == (r["case"] == POOL_SMALL)
        assert r["gf_fast"] is None and r["gf_torch"] is None
    assert "PyTorch is not installed" not in out

    data = json.loads(path.read_text())
    assert data["reps"] == 3
    assert [(r["case"], r["mode"]) for r in data["rows"]] == expected
    for r in data["rows"]:
        assert r["ms"]["fast"] > 0 and r["ms"]["torch"] > 0
        assert r["fast/torch"] == pytest.approx(r["ms"]["fast"] / r["ms"]["torch"])


def test_bench_without_torch(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    path = tmp_path / "ops.json"
    argv = ["bench", "--reps", "1", "--case", "100x3x32x32", "--dtype", "float64"]
    argv += ["--json", str(path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "PyTorch is not installed" in out and "pip install torch" in out
    rows = table_rows(out)
    assert [(r["case"], r["dtype"], r["mode"]) for r in rows] == [
        (POOL_SMALL, "float64", "fwd"),
        (POOL_SMALL, "float64", "fwd+bwd"),
    ]
    for r in rows:
        assert positive(r["fast"]) and positive(r["naive"]) and positive(r["naive/fast"])
        assert r["torch"] is None and r["fast/torch"] is None
    data = json.loads(path.read_text())
    assert data["torch"] is None and data["torch_threads"] is None
    for r in data["rows"]:
        assert "torch" not in r["ms"] and r["fast/torch"] is None


def test_bench_unknown_case_is_an_error(capsys):
    assert main(["bench", "--quick", "--case", "maxpool", "--case", "resnet"]) == 1
    err = capsys.readouterr().err
    assert "no benchmark case matches 'resnet'" in err and POOL_SMALL in err


@pytest.mark.parametrize("bad", [["--dtype", "float16"], ["--reps", "0"]])
def test_bench_bad_options_are_argparse_errors(bad, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench", *bad])
    assert exc.value.code == 2


def test_select_cases_substring_repeatable_in_table_order():
    assert select_cases(["64X64x32x32", "seed"]) == [
        "seed conv 100x3x31x31 w25x3x3x3 s2p1",
        "cifar conv 64x64x32x32 w64x64x3x3 s1p1",
        "maxpool 2x2/2 64x64x32x32",
    ]
    assert len(select_cases(None)) == 5
