#!/usr/bin/env python
"""Train scdefer once per (dataset, seed, options) and keep every representation for readouts.

One training yields many candidate final assignments (the DEC head; K-means, spectral and
Leiden-at-K on Z, Z_D, Z_G after pre-training and after the clustering phase; the same on the PCA),
so the representations are saved to ``bench/work/reps/`` and scored offline by
``bench/readouts.py``. Labels are saved beside them only to score; training never reads them.

    python bench/diagnose.py --seeds 0 1 2 --tag default
    python bench/diagnose.py --seeds 0 --tag nograph --options '{"weight_graph": 0}'
    python bench/diagnose.py --files bench/work/scale/prep_100000.h5ad --label-key group \
        --device cuda --seeds 0 --tag scale   # an already preprocessed file is used as it is

Every run is its own process (memory and thread settings stay its own); 2 threads by default.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
DEFAULT_DATA = BENCH.parents[1] / "shared" / "data"
REPS = BENCH / "work" / "reps"
SKIP = {"Yan.h5ad"}  # RPKM, not counts


def saved_views(saved: Mapping[str, Any]) -> dict[str, Any]:
    """The embeddings a saved run holds, by view: the PCA, Z after pre-training and after
    the clustering phase (the ensemble's views)."""
    return {"pca": saved["pca"], "pretrain": saved["pretrain_z"], "z": saved["cluster_z"]}


def run_one(path: Path, seed: int, options: dict, tag: str, threads: int,
            label_key: str = "cell_type", device: str = "cpu") -> Path:
    """Preprocess and train one dataset; save PCA, latents, DEC probabilities and labels.

    A file that ``scdefer preprocess`` wrote already (PCA and graph present) is not preprocessed
    again.
    """
    import warnings

    warnings.filterwarnings("ignore")
    import anndata as ad
    import numpy as np

    from scdefer._runtime import deterministic_algorithms, seed_everything, set_threads
    from scdefer.keys import CONNECTIVITIES, PCA
    from scdefer.params import PreprocessParams
    from scdefer.preprocessing import preprocess
    from scdefer.train import CellData, Trainer, TrainParams

    set_threads(threads)
    prep_fields = {f.name for f in fields(PreprocessParams)}
    prep_options = {name: value for name, value in options.items() if name in prep_fields}
    train_options = {name: value for name, value in options.items() if name not in prep_fields}
    raw = ad.read_h5ad(path)
    truth = raw.obs[label_key].astype(str)
    start = time.perf_counter()
    if PCA in raw.obsm and CONNECTIVITIES in raw.obsp:
        prepared = raw
    else:
        unlabelled = ad.AnnData(raw.X, obs=raw.obs[[]].copy(), var=raw.var[[]].copy())
        prepared = preprocess(unlabelled, PreprocessParams(**prep_options))
    k_true = int(truth.nunique())
    params = TrainParams(n_clusters=train_options.pop("n_clusters", k_true), seed=seed,
                         **train_options).resolved()
    seed_everything(seed)
    data = CellData.from_anndata(prepared, params)
    saved: dict[str, np.ndarray] = {}

    def keep(phase: str, emb) -> None:
        for name in ("z", "z_dense", "z_graph"):
            latent = getattr(emb, name)  # None for an encoder that is ablated
            if latent is not None:
                saved[f"{phase}_{name}"] = latent.cpu().numpy()

    import torch

    with deterministic_algorithms():  # as ScDefer.fit trains: repeatable, and the package's run
        network, result = Trainer(data, params, torch.device(device), progress=False,
                                  on_phase_end=keep).fit()
    if network.decoder is not None:  # no ZINB decoder at weight 0 (the fast default)
        saved["denoised_pca"] = denoised_pca(network, data, torch.device(device))
    seconds = time.perf_counter() - start
    out = REPS / tag / f"{path.stem}_s{seed}.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out, pca=prepared.obsm[PCA], proba=result.proba, labels=result.labels,
        label_change=np.array([h.get("label_change", np.nan) for h in result.history]),
        truth=truth.loc[prepared.obs_names].to_numpy().astype(str), **saved,
        meta=json.dumps({"dataset": path.stem, "seed": seed, "tag": tag, "options": options,
                         "n_clusters": result.n_clusters, "k_true": k_true,
                         "pretrain_epochs_run": result.pretrain_epochs_run,
                         "epochs_run": result.epochs_run, "wall_s": round(seconds, 1),
                         "threads": threads, "device": device, "encoder_input": params.encoder_input,
                         "final_source": result.final_source,
                         "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}),
    )
    return out


def denoised_pca(network, data, device, n_pcs: int = 50):
    """PCA of log1p of the ZINB decoder's mean (the model's denoised expression), 50 PCs."""
    import numpy as np
    import torch
    from sklearn.decomposition import PCA

    from scdefer.train._inference import embed

    network.eval()
    with torch.no_grad():
        z = embed(network, data, device).z
        mean = torch.cat([torch.exp(network.mean_head(network.decoder(part))).clamp(1e-5, 1e6)
                          for part in z.split(4096)])
        values = torch.log1p(mean / mean.sum(1, keepdim=True) * 1e4).cpu().numpy()
    n = int(min(n_pcs, values.shape[0] - 1, values.shape[1] - 1))
    return PCA(n, random_state=0).fit_transform(values).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="*", help="file stems (default: every count dataset)")
    parser.add_argument("--files", type=Path, nargs="*", help="these .h5ad files instead of --data")
    parser.add_argument("--label-key", default="cell_type", help="obs column of the true labels")
    parser.add_argument("--device", default="cpu", help="torch device to train on")
    parser.add_argument("--tag", default="default", help="name of this configuration")
    parser.add_argument("--options", default="{}",
                        help="TrainParams fields as JSON; PreprocessParams fields among them "
                             "(e.g. n_neighbors) go to preprocessing")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--one", nargs=2, metavar=("FILE", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    options = json.loads(args.options)
    if args.one:
        print(run_one(Path(args.one[0]), int(args.one[1]), options, args.tag, args.threads,
                      args.label_key, args.device))
        return
    files = sorted((p for p in args.data.glob("*.h5ad") if p.name not in SKIP),
                   key=lambda p: p.stat().st_size)
    if args.files:
        files = args.files
    if args.datasets:
        files = [p for p in files if p.stem in args.datasets]
    for seed in args.seeds:  # seed-major: a partial run still covers every dataset
        for path in files:
            target = REPS / args.tag / f"{path.stem}_s{seed}.npz"
            if target.exists():
                continue
            cmd = [sys.executable, __file__, "--threads", str(args.threads), "--tag", args.tag,
                   "--options", args.options, "--label-key", args.label_key,
                   "--device", args.device, "--one", str(path), str(seed)]
            tic = time.perf_counter()
            res = subprocess.run(cmd, capture_output=True, text=True)
            status = "ok" if res.returncode == 0 else f"FAILED: {res.stderr.strip()[-400:]}"
            print(f"{args.tag} {path.stem} seed {seed}: {time.perf_counter() - tic:.0f}s {status}",
                  flush=True)


if __name__ == "__main__":
    main()
