#!/usr/bin/env bash
# htsr on a GPU machine, one short prepared run (benchmarks/gpu_llm.py says what each step is):
# the TinyLlama-1.1B-shaped folder (6 decoder layers, 44 matrices), its NumPy floor and the same
# eigenvalues on the GPU, `htsr report --device cpu|gpu` without and with 1,000-resample intervals,
# and the accuracy of the GPU eigenvalues and alphas against CPU float64; then the float32-Gram
# accuracy on 2048x5632 heavy-tailed matrices.  One table on stdout, and in $OUT when it is set.
#
#     bash benchmarks/gpu_llm.sh                      # about 5 minutes on an H100 machine (16 cores)
#     GPU_LLM_ARGS="--preset tinyllama --budget 420" bash benchmarks/gpu_llm.sh   # all 22 layers
#
# Through the device tool (nothing to install there: its image has CUDA JAX, NumPy, pandas,
# safetensors; htsr runs from the working tree):  run(command="bash benchmarks/gpu_llm.sh",
# timeout_s=600).  It ends inside 9 minutes whatever happens: runs that would start after the
# budget (480 s) are skipped and said so.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" XLA_PYTHON_CLIENT_PREALLOCATE=false
PY=${PYTHON:-python3}
LOG=${OUT:-/tmp}/gpu_llm.log
{
  echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD 2>/dev/null || echo no-git)"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
  $PY -c "import jax; print('jax', jax.__version__, jax.devices())"
  timeout 500 $PY benchmarks/gpu_llm.py ${GPU_LLM_ARGS:---preset tinyllama6 --budget 420}
  echo "== float32 Gram accuracy on the GPU"
  timeout 90 $PY benchmarks/gpu_llm.py accuracy --device gpu
} 2>&1 | tee "$LOG"
