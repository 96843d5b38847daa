#!/usr/bin/env bash
# Time echo-lag on an NVIDIA GPU: the vectorized engine at 4096 and 8192 seeds, then all three
# ways (tutorial loop, per-seed, vectorized) on 64 seeds; each prints its phases (set-up, compile,
# train, score) and keeps JSON in $OUT (or here). For a machine with JAX for CUDA
# installed and no network: Keras and its two pure-Python needs travel as wheels in .whl/, made
# where pip works with
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_17_x86_64 -d .whl keras==3.15.1 namex optree
set -euo pipefail
cd "$(dirname "$0")/.."
if compgen -G ".whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
    export PYTHONPATH="/tmp/site:${PYTHONPATH:-}"
fi
export PYTHONPATH="$PWD:${PYTHONPATH:-}" KERAS_BACKEND=jax PYTHONUNBUFFERED=1
python3 -c "import jax; print('devices:', jax.devices())"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
for seeds in 4096 8192; do
    python3 -m bench speed echo-lag --engine vectorized --seeds "$seeds" --jobs 1 \
        --json "${OUT:-.}/speed-$seeds.json"
done
python3 -m bench speed echo-lag --seeds 64 --tutorial-epochs 30 --json "${OUT:-.}/speed-64.json"
