"""Benchmark: the normalisation engine against a bare ``pandas.read_csv`` of the same file.

Builds a synthetic German-formatted municipal CSV (cp1252, ';', decimal
commas, '.' thousands separators, '-'/'.'/'x' markers, a title block and a
copyright footer) and measures, in one run:

* baseline: ``pandas.read_csv`` of the file (delimiter and encoding given, no parsing of German numbers);
* engine: read + normalise + validate (tidy frame in memory, chunked);
* engine + write: the same, streaming the tidy CSV to disk.

It prints rows/s, the ratio to the baseline (target ≥ 0.25) and each run's
peak resident memory above what the process held before it (target < 2 ×
file size). Every measurement runs in a fresh process that first handles a
1,000-row file the same way, so one-time costs (imports, shared libraries)
are not counted as working memory.

    .venv/bin/python -m bench.normalise [--rows 1000000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from vierstaedte_harvest import allocator
from vierstaedte_harvest import mapping as mapping_module
from vierstaedte_harvest.normalise import normalise

ROOT = Path(__file__).resolve().parents[1]

ORTSBEZIRKE = [
    "Altstadt",
    "Neustadt",
    "Oberstadt",
    "Hartenberg/Münchfeld",
    "Mombach",
    "Gonsenheim",
    "Finthen",
    "Bretzenheim",
    "Marienborn",
    "Lerchenberg",
    "Drais",
    "Hechtsheim",
    "Ebersheim",
    "Weisenau",
    "Laubenheim",
]
AGES = [
    "0 - 2",
    "3 - 5",
    "6 - 9",
    "10 - 14",
    "15 - 17",
    "18 - 24",
    "25 - 29",
    "30 - 44",
    "45 - 59",
    "60 - 64",
    "65 - 74",
    "75 - 79",
    "80 u. älter",
]
MAPPING = {
    "id": "bench-mainz-bevoelkerung",
    "city": "mainz",
    "area": {"column": "Ortsbezirk", "level": "ortsbezirk"},
    "period": {"column": "Stichtag"},
    "dimensions": {
        "sex": "Geschlecht",
        "age_group": "Altersgruppe",
        "nationality": "Staatsangehörigkeit",
    },
    "values": [{"header": "Einwohner", "indicator": "population_total"}],
    "ignore": ["Lfd. Nr."],
}


def build(path: Path, rows: int) -> None:
    """A file whose every (date, area, sex, age, nationality) combination is unique, like a real export."""
    rng = np.random.default_rng(42)
    combos = len(ORTSBEZIRKE) * 2 * len(AGES) * 2
    days = -(-rows // combos)
    dates = pd.date_range("1990-01-31", periods=days, freq="ME").strftime("%d.%m.%Y")
    index = np.arange(rows)
    frame = pd.DataFrame(
        {
            "Lfd. Nr.": index + 1,
            "Stichtag": np.asarray(dates)[index // combos],
            "Ortsbezirk": np.asarray(ORTSBEZIRKE)[index % len(ORTSBEZIRKE)],
            "Geschlecht": np.asarray(["männlich", "weiblich"])[(index // len(ORTSBEZIRKE)) % 2],
            "Altersgruppe": np.asarray(AGES)[(index // (len(ORTSBEZIRKE) * 2)) % len(AGES)],
            "Staatsangehörigkeit": np.asarray(["deutsch", "nichtdeutsch"])[
                (index // (len(ORTSBEZIRKE) * 2 * len(AGES))) % 2
            ],
        }
    )
    counts = rng.integers(0, 25_000, rows)
    cells = pd.Series(counts).map("{:,}".format).str.replace(",", ".")
    markers = rng.random(rows)
    cells[markers < 0.01] = "-"
    cells[(markers >= 0.01) & (markers < 0.015)] = "x"
    frame["Einwohner"] = cells
    with path.open("w", encoding="cp1252", newline="") as handle:
        handle.write(
            "Landeshauptstadt Mainz – Bürgeramt / Statistik\nEinwohner nach Ortsbezirken\n\n"
        )
        frame.to_csv(handle, sep=";", index=False)
        handle.write("© Landeshauptstadt Mainz;;;;;;\n")


class PeakRSS:
    """Samples this process's resident memory every 5 ms (no third-party profiler needed)."""

    def __init__(self):
        self.peak = self.base = self._rss()
        self._stop = threading.Event()

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def used(self) -> int:
        return self.peak - self.base


def measure(kind: str, source: Path, out: Path) -> dict:
    """One measurement, run in a fresh process so freed memory of another cannot hide a peak."""
    allocator.return_freed_memory()  # as the vierstaedte-harvest command does at its start
    mapping = mapping_module.parse(MAPPING)
    # one-time per process, not per table: load the descriptor (imports frictionless) and the Arrow/pandas
    # kernels (shared libraries), by normalising a small file first; the measurement is the working set
    warm = source.with_name("warm-up.csv")
    build(warm, 1_000)
    if kind == "baseline":
        pd.read_csv(warm, sep=";", encoding="cp1252", skiprows=3, low_memory=False)
    else:
        normalise(warm, mapping, out=out if kind == "engine-write" else None)
    runs = {
        "baseline": lambda: pd.read_csv(
            source, sep=";", encoding="cp1252", skiprows=3, low_memory=False
        ),
        "engine": lambda: normalise(source, mapping),
        "engine-write": lambda: normalise(source, mapping, out=out),
    }
    gc.collect()
    with PeakRSS() as memory:
        start = time.perf_counter()
        result = runs[kind]()
        seconds = time.perf_counter() - start
    rows_out = len(result) if kind == "baseline" else result.report.rows_out
    if kind != "baseline" and result.report.verdict == "rejected":
        raise SystemExit(
            f"engine rejected the benchmark file: {result.report.as_dict()['errors'][:3]}"
        )
    return {"seconds": seconds, "memory": memory.used, "rows_out": rows_out}


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.normalise", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--measure", choices=["baseline", "engine", "engine-write"], help=argparse.SUPPRESS
    )
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.file, args.file.with_suffix(".tidy.csv"))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "bevoelkerung.csv"
        build(source, args.rows)
        size = source.stat().st_size
        results = {}
        for kind in ("baseline", "engine", "engine-write"):
            output = subprocess.run(
                [sys.executable, "-m", "bench.normalise", "--measure", kind, "--file", str(source)],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            ).stdout
            results[kind] = json.loads(output.strip().splitlines()[-1])
    base = results["baseline"]["seconds"]
    print(
        f"file: {args.rows:,} rows, {size / 1e6:.1f} MB (cp1252, ';', German numbers); "
        f"tidy rows: {results['engine']['rows_out']:,}"
    )
    print(f"{'measure':<36}{'seconds':>9}{'rows/s':>12}{'ratio':>8}{'peak MB':>10}{'× file':>8}")
    for kind, name in (
        ("baseline", "pandas.read_csv (baseline)"),
        ("engine", "normalise + validate"),
        ("engine-write", "normalise + validate + write CSV"),
    ):
        r = results[kind]
        print(
            f"{name:<36}{r['seconds']:>9.2f}{args.rows / r['seconds']:>12,.0f}{base / r['seconds']:>8.2f}"
            f"{r['memory'] / 1e6:>10.1f}{r['memory'] / size:>8.2f}"
        )
    print("targets: ratio ≥ 0.25 for normalise + validate; peak memory < 2.00 × file size")


if __name__ == "__main__":
    main()
