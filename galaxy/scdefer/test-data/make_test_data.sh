#!/usr/bin/env bash
# Regenerate the Galaxy tests' inputs with the project's own simulator and CLI (small, < 1 MB each).
set -euo pipefail
cd "$(dirname "$0")"
scdefer simulate -o sim_counts.h5ad --n-cells 150 --n-genes 300 --n-groups 3 --seed 5 --quiet
python - <<'PY'
import anndata as ad
a = ad.read_h5ad("sim_counts.h5ad")
a.X = a.X.toarray() * 0.37 + 0.01  # TPM-like values: not counts
a.write_h5ad("sim_not_counts.h5ad", compression="gzip")
PY
scdefer preprocess sim_counts.h5ad -o sim_prepared.h5ad --n-top-genes 200 --n-pcs 20 --quiet
scdefer train sim_prepared.h5ad -o sim_clustered.h5ad --n-clusters 3 --pretrain-epochs 20 \
    --epochs 5 --device cpu --threads 1 --quiet
# A small model for the predict tool (the default widths would make a 12 MB archive).
python - <<'PY'
import tarfile
import anndata as ad
import scdefer
model = scdefer.ScDefer(n_clusters=3, hidden=(32, 16, 8), decoder_hidden=(16, 32),
                        pretrain_epochs=20, epochs=5, device="cpu", progress=False)
model.fit(ad.read_h5ad("sim_prepared.h5ad")).save("sim_model")
with tarfile.open("sim_model.tar", "w") as tar:
    for name in ("model.pt", "params.json", "genes.tsv"):
        tar.add(f"sim_model/{name}", arcname=name)
PY
rm -rf sim_model
