#!/usr/bin/env bash
# Regenerate the pipeline's test inputs with the project's own simulator.
set -euo pipefail
cd "$(dirname "$0")"
scdefer simulate -o sim_a.h5ad --n-cells 300 --n-genes 500 --n-groups 3 --seed 11 --quiet
scdefer simulate -o sim_b.h5ad --n-cells 250 --n-genes 500 --n-groups 4 --seed 12 --quiet
