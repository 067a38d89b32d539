#!/usr/bin/env bash
# The GPU checks, each part a command of under ten minutes on one GPU (transformer and sweeps can share one
# GPU, each started in the background):
#   transformer  the Multi30k Transformer to 20 epochs (configs/multi30k.py:model=transformer, its schedule
#                continued), then beam 5 on the test split: results JSON under OUT/results/multi30k/ (run
#                de_en_transformer_e20_gpu), beside the 10-epoch CPU run;
#   sweeps       issue 22's largest table runs, several at a time: vaswani2017_heads (full: 21 Transformer
#                runs), britz2017_attention's scaled rows (full) and 6-epoch rows (gap); the sweeps skip
#                finished runs, so a stopped part resumes; results JSON under OUT/results/<experiment>/;
#   benchmarks   the benchmarks that say most on a GPU, float32 and mixed precision where they have both:
#                scaled-dot attention against jax.nn.dot_product_attention (cuDNN), training throughput,
#                batch-1 updates; reports OUT/benchmarks/<name>_gpu.json (copy them to results/benchmarks/ and
#                run `make readme`).
# Measured on one H200 (jax 0.11.2, 2026-12-04): the Transformer's step runs at 270-290 updates/s, but each
# padded batch shape compiles in about 25 s, so epoch 0 alone took 4 min and the run needs the whole command;
# dot_product_attention took 45 s, training_throughput and small_updates more than 90 and 45 s (each batch
# shape compiled per precision). XLA's GEMM autotuning (most of a compile there) is off for the training
# parts (--xla_gpu_autotune_level=0: cuBLAS's heuristics pick the kernels; it changes no result). Each part has its own time limit, so a slow part costs only itself; logs go
# to OUT/*.log.
#
#   bash benchmarks/gpu.sh OUT_DIR transformer|sweeps|benchmarks  (PYTHON=python3; data: $ATTN_RESEARCH_DATA_DIR)
#   QUICK=1 bash benchmarks/gpu.sh OUT_DIR PART             (a smoke run: --quick benchmarks, 20 updates)
set -u
usage="usage: bash benchmarks/gpu.sh OUT_DIR transformer|sweeps|benchmarks"
out=${1:?$usage}
what=${2:?$usage}
case $what in
  transformer | sweeps | benchmarks) ;;
  *)
    echo "error: the part is transformer, sweeps or benchmarks, got '$what'" >&2
    exit 2
    ;;
esac
py=${PYTHON:-python3}
mkdir -p "$out/benchmarks" "$out/results"
export WANDB_MODE=${WANDB_MODE:-disabled} PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
quick=()
train_extra=(--config.train.num_epochs=20)
if [ "${QUICK:-0}" = 1 ]; then
  quick=(--quick)
  train_extra=(--config.train.num_steps=20 --config.train.log_every_steps=10)
fi
if [ "$what" != benchmarks ]; then
  export XLA_FLAGS="${XLA_FLAGS:-} --xla_gpu_autotune_level=0"
fi

part() {  # part NAME SECONDS COMMAND...: runs COMMAND under a time limit, its output in OUT/NAME.log
  local name=$1 limit=$2
  shift 2
  echo "== $name ($(date +%T), limit ${limit} s)"
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  echo "== $name exit $? ($(date +%T))"
  tail -n 3 "$out/$name.log"
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >"$out/nvidia-smi.log" 2>&1
"$py" -c "import jax; print(jax.__version__, jax.devices())" >>"$out/nvidia-smi.log" 2>&1
cat "$out/nvidia-smi.log"

case $what in
  transformer)
    workdir=$(mktemp -d)/m30k_transformer_e20
    part transformer_train "${TRAIN_SECONDS:-480}" "$py" -m attn_research.main \
      --config=configs/multi30k.py:model=transformer --workdir="$workdir" "${train_extra[@]}" \
      --config.run_name=de_en_transformer_e20_gpu --config.results_dir="$out/results"
    part transformer_beam5 "${EVAL_SECONDS:-90}" "$py" -m attn_research.evaluate --workdir="$workdir" --split=test \
      --beam=5 --heatmaps=0 --results_dir="$out/results"
    ;;
  sweeps)
    limit=${SWEEP_SECONDS:-480}
    sweep() {  # sweep EXPERIMENT SCALE PARALLEL [--only KEY=VALUES]...
      part "$1_$2" "$limit" "$py" -m attn_research.sweep "experiments/$1.py" --scale "$2" --parallel "$3" \
        --results_dir "$out/results" "${@:4}"
    }
    if [ "${QUICK:-0}" = 1 ]; then
      sweep vaswani2017_heads smoke 2
    else
      sweep vaswani2017_heads full 6 &
      sweep britz2017_attention full 3 --only model.attention.temperature=11.314,16.0,22.627 &
      sweep britz2017_attention gap 2 --only train.num_epochs=6 &
      wait
    fi
    ;;
  benchmarks)
    for spec in dot_product_attention:90 training_throughput:300 small_updates:150; do
      part "${spec%%:*}" "${spec##*:}" "$py" -m "benchmarks.${spec%%:*}" --out_dir "$out/benchmarks" "${quick[@]}"
    done
    ;;
esac
