#!/usr/bin/env python
"""Wall time and peak memory of simulate, preprocess and train against the number of cells.

Each step is the ``scdefer`` command a user would run, with the DEFAULT settings (K estimated,
``--n-clusters auto``), timed by ``/usr/bin/time -v`` (elapsed wall clock, maximum resident set
size), one step after the other with nothing else running. Simulated data: 2,000 genes, 8 groups;
the ARI of the trained labels against the simulated groups is read from the output (the labels
are never seen by training). A row is appended to the table as soon as its step ends, so an
interrupted run leaves a partial table. ``--plot`` draws time and memory against cells (log-log,
with a slope-1 reference line).

    python bench/scale.py --cells 10000 30000 100000 --threads 2 --out bench/results/scale.tsv
    python bench/scale.py --cells 1000000 --steps simulate preprocess --threads 2 \\
        --out bench/results/scale.tsv
    python bench/scale.py --plot bench/results/scale.tsv     # -> bench/results/scale.png
    python bench/scale.py --summary bench/results/scale.tsv  # markdown table and log-log slopes
    python bench/scale.py --device cuda --threads 16 --out bench/results/scale_gpu.tsv

On a GPU (``--device cuda``) the train row also has the peak GPU memory allocated by torch
(``gpu_peak_mb``, read from the train command's last log line).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

WORK = Path(__file__).resolve().parent / "work" / "scale"
COLUMNS = ("cells", "step", "seconds", "peak_rss_mb", "ari", "nmi", "n_clusters", "threads",
           "revision", "command", "device", "gpu_peak_mb")
GPU_PEAK = re.compile(r"GPU ([\d.]+) GB")


def timed(command: list[str], threads: int) -> tuple[float, float, float]:
    """Run ``command`` under /usr/bin/time -v: (wall seconds, peak RSS MB, peak GPU MB or NaN)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True,
                          env=env)
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time .*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    hours, minutes, seconds = (float(g) if g else 0.0 for g in wall.groups())
    gpu = GPU_PEAK.findall(done.stderr)
    return (hours * 3600 + minutes * 60 + seconds, int(rss.group(1)) / 1024,
            float(gpu[-1]) * 1024 if gpu else np.nan)


def scores(path: Path) -> tuple[float, float, int]:
    """ARI and NMI of obs['scdefer'] against the simulated obs['group'], and the cluster count."""
    import anndata as ad
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    obs = ad.read_h5ad(path, backed="r").obs
    return (adjusted_rand_score(obs["group"], obs["scdefer"]),
            normalized_mutual_info_score(obs["group"], obs["scdefer"]),
            int(obs["scdefer"].nunique()))


STEPS = ("simulate", "preprocess", "train")


def run(cells: list[int], threads: int, out: Path, seed: int,
        only: tuple[str, ...] = STEPS, device: str = "cpu") -> None:
    """Simulate, preprocess and train at every size; append each step's row to ``out``."""
    exe = [sys.executable, "-m", "scdefer"]
    import scdefer  # the code that runs (a frozen worktree through PYTHONPATH, or this checkout)

    revision = os.environ.get("BENCH_REVISION") or subprocess.run(  # a copy without .git: given
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
        cwd=Path(scdefer.__file__).parent).stdout.strip()
    WORK.mkdir(parents=True, exist_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists():
        out.write_text("\t".join(COLUMNS) + "\n")
    for n in cells:
        raw, prep, clustered = (WORK / f"{name}_{n}.h5ad" for name in ("sim", "prep", "clustered"))
        steps = {
            "simulate": [*exe, "simulate", "--n-cells", str(n), "--n-genes", "2000",
                         "--n-groups", "8", "--seed", str(seed), "-o", str(raw), "--quiet"],
            "preprocess": [*exe, "preprocess", str(raw), "-o", str(prep), "--threads",
                           str(threads), "--quiet"],
            "train": [*exe, "train", str(prep), "-o", str(clustered), "--threads", str(threads),
                      "--seed", str(seed), "--device", device,
                      *(["--quiet"] if device == "cpu" else [])],  # its last line: GPU peak
        }
        for step, command in steps.items():
            if step not in only:
                continue
            seconds, rss, gpu = timed(command, threads)
            ari, nmi, found = scores(clustered) if step == "train" else (np.nan, np.nan, 0)
            shown = " ".join(c.replace(str(WORK) + "/", "") for c in command[len(exe):])
            row = (n, step, f"{seconds:.1f}", f"{rss:.0f}", f"{ari:.4f}", f"{nmi:.4f}",
                   found or "", threads, revision, f"scdefer {shown}", device,
                   "" if np.isnan(gpu) else f"{gpu:.0f}")
            with out.open("a") as handle:
                handle.write("\t".join(map(str, row)) + "\n")
            print("\t".join(map(str, row[:7])), flush=True)


def plot(table: Path) -> Path:
    """Log-log time and peak RSS of each step against cells, with a slope-1 reference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = pd.read_csv(table, sep="\t").sort_values(["step", "cells"], kind="stable")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, column, label in ((axes[0], "seconds", "wall time (s)"),
                              (axes[1], "peak_rss_mb", "peak RSS (MB)")):
        for step in STEPS:
            rows = frame[frame["step"] == step]
            ax.plot(rows["cells"], rows[column], "o-", label=step)
        x = np.array([frame["cells"].min(), frame["cells"].max()], dtype=float)
        start = frame.loc[frame["step"] == "train", column].iloc[0]
        ax.plot(x, start * x / x[0], "k--", lw=1, label="linear (slope 1) from train")
        ax.set(xscale="log", yscale="log", xlabel="cells", ylabel=label)
        ax.legend(fontsize=8)
    device = frame["device"].dropna().iloc[0] if "device" in frame else "cpu"
    fig.suptitle(f"scdefer on simulated data (2,000 genes, 8 groups), defaults, "
                 f"{frame['threads'].iloc[0]} threads, train on {device}")
    fig.tight_layout()
    path = table.with_suffix(".png")
    fig.savefig(path, dpi=120)
    return path


def summary(table: Path) -> str:
    """Markdown: the table, and the log-log slope of each step's time and memory against cells."""
    frame = pd.read_csv(table, sep="\t")
    gpu = "gpu_peak_mb" in frame and frame["gpu_peak_mb"].notna().any()
    lines = ["| cells | step | wall s | peak RSS MB | ARI | NMI | K found |"
             + (" GPU peak MB |" if gpu else ""), "|" + "---:|" * (7 + gpu)]
    for row in frame.itertuples():
        found = "" if pd.isna(row.n_clusters) else int(row.n_clusters)
        ari = "" if pd.isna(row.ari) else f"{row.ari:.3f}"
        nmi = "" if pd.isna(row.nmi) else f"{row.nmi:.3f}"
        lines.append(f"| {row.cells:,} | {row.step} | {row.seconds:.0f} | {row.peak_rss_mb:,.0f} "
                     f"| {ari} | {nmi} | {found} |"
                     + (f" {'' if pd.isna(row.gpu_peak_mb) else f'{row.gpu_peak_mb:,.0f}'} |"
                        if gpu else ""))
    lines += ["", "| step | cells | slope of time | slope of peak RSS |", "|---|---|---:|---:|"]
    for step, rows in frame.groupby("step", sort=False):
        rows = rows.sort_values("cells")
        if len(rows) < 2:
            continue
        first, last = rows.iloc[0], rows.iloc[-1]
        span = np.log(last["cells"] / first["cells"])
        lines.append(f"| {step} | {first['cells']:,}-{last['cells']:,} | "
                     f"{np.log(last['seconds'] / first['seconds']) / span:.2f} | "
                     f"{np.log(last['peak_rss_mb'] / first['peak_rss_mb']) / span:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, nargs="+", default=[10000, 30000, 100000])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS),
                        help="steps to run (e.g. simulate preprocess for 1,000,000 cells)")
    parser.add_argument("--device", default="cpu", help="--device of the train step (cpu, cuda)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/scale.tsv"))
    parser.add_argument("--plot", type=Path, help="draw the PNG of this table and stop")
    parser.add_argument("--summary", type=Path, help="print this table and its slopes as markdown")
    args = parser.parse_args()
    if args.plot:
        print(plot(args.plot))
        return
    if args.summary:
        print(summary(args.summary))
        return
    run(args.cells, args.threads, args.out, args.seed, tuple(args.steps), args.device)


if __name__ == "__main__":
    main()
