#!/usr/bin/env bash
# Time echo-lag on an NVIDIA GPU: the vectorized engine at 4096 and 8192 seeds, its training
# program with the one-hot products and with gathers (bench.perf.products; INPUT_SEEDS, default 1 64 1024), then all three
# ways (tutorial loop, per-seed, vectorized) on 64 seeds; each prints its phases (set-up, compile,
# train, score) and keeps JSON in $OUT (or here). Last, what a user runs: `bench run` of 4096
# seeds end to end, results stored (its meta.json kept beside the JSON). SEEDS, COMPARE_SEEDS and EPOCHS change the sizes
# (a trial on a CPU: SEEDS=32 COMPARE_SEEDS=4 INPUT_SEEDS='1 4' EPOCHS=50 scripts/gpu-speed.sh). For a machine with JAX for CUDA
# installed and no network: Keras and its two pure-Python needs travel as wheels in .whl/, made
# where pip works with
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_17_x86_64 -d .whl keras==3.15.1 namex optree
set -euo pipefail
cd "$(dirname "$0")/.."
if compgen -G ".whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH="/tmp/site:${PYTHONPATH:-}"
fi
export PYTHONPATH="$PWD:${PYTHONPATH:-}" KERAS_BACKEND=jax PYTHONUNBUFFERED=1
python3 -c "import jax; print('devices:', jax.devices())"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
epochs=(${EPOCHS:+--epochs "$EPOCHS"})
sizes="${SEEDS:-4096 8192}"
for seeds in $sizes; do
    python3 -m bench speed echo-lag --engine vectorized --seeds "$seeds" --jobs 1 "${epochs[@]}" \
        --json "${OUT:-.}/speed-$seeds.json"
done
python3 - "${OUT:-.}/input-products.json" "${EPOCHS:-2000}" ${INPUT_SEEDS:-1 64 1024} <<'PY'
import json, sys
from bench.perf.products import input_products
from experiments.echo_lag import EXPERIMENT
setup = EXPERIMENT.baseline_setup.replace(epochs=int(sys.argv[2]))
timed = {seeds: input_products(setup, seeds, rounds=2) for seeds in map(int, sys.argv[3:])}
for seeds, per in timed.items():
    print(f"{seeds} seeds, s per seed-epoch:", per,
          f"gathers {per['one-hot products'] / per['gathered']:.2f}x")
json.dump(timed, open(sys.argv[1], "w"), indent=2)
PY
compare="${COMPARE_SEEDS:-64}"
python3 -m bench speed echo-lag --seeds "$compare" --tutorial-epochs 30 "${epochs[@]}" \
    --json "${OUT:-.}/speed-$compare.json"
results="$(mktemp -d)"
time python3 -m bench run echo-lag --engine vectorized --seeds "${sizes%% *}" --jobs 1 "${epochs[@]}" \
    --curve-every 10 --quiet --results "$results"
cp "$results/echo-lag/meta.json" "${OUT:-.}/run-meta.json"
