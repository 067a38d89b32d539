#!/usr/bin/env bash
# The GPU checks, each part a command of under ten minutes on one GPU (transformer, bahdanau and sweeps can
# share one GPU, each started in the background):
#   transformer  the Multi30k Transformer to 20 epochs (configs/multi30k.py:model=transformer, its schedule
#                continued), then beam 5 on the test split: results JSON under OUT/results/multi30k/ (run
#                de_en_transformer_e20_gpu), beside the 10-epoch CPU run;
#   bahdanau     the Multi30k Bahdanau model (configs/multi30k.py:model=bahdanau, its own schedule), then beam 5
#                on the test split: run de_en_bahdanau_gpu beside the CPU run de_en_bahdanau (issue 22: both BLEU
#                columns for the Bahdanau model; 97 min on 2 CPU cores);
#   sweeps       experiments' sweeps, all at once, each several runs at a time: the SPECs after the part,
#                EXPERIMENT[:SCALE[:PARALLEL]] (default vaswani2017_heads:full:6, issue 22's largest table);
#                e.g. zeng2023_ett:patchtst_recipe:8 luong2015_table4:full:4; results JSON under
#                OUT/results/<experiment>/, which starts as a copy of the committed results/<experiment>/, so
#                the sweeps skip the runs that finished before (here or on the CPU) and a stopped part resumes;
#   benchmarks   the benchmarks that say most on a GPU, float32 and mixed precision where they have both:
#                scaled-dot attention against jax.nn.dot_product_attention (cuDNN), training throughput,
#                batch-1 updates; reports OUT/benchmarks/<name>_gpu.json (copy them to results/benchmarks/ and
#                run `make readme`).
# Measured on one H200 (jax 0.11.2, 2026-12-04): the Transformer's step runs at 270-290 updates/s. With XLA's
# GEMM autotuning on, each padded batch shape compiled in about 25 s (epoch 0 alone took 4 min); off
# (--xla_gpu_autotune_level=0, set for the training parts: cuBLAS's heuristics pick the kernels), about 1.5 s,
# and the 20-epoch run took 6.1 min beside the sweeps. Sharing the GPU, britz2017_attention runs took 1.5 min
# each (3 at a time) and vaswani2017_heads runs 4-5 min (6 at a time: 1 of 21 evaluated in 475 s, 5 more
# trained). dot_product_attention took 45 s, training_throughput and small_updates more than 90 and 45 s.
# Later the same day (sweeps luong2015_table4:full:12 bahdanau2015_length:full:4, 525 s): the four
# bahdanau2015_length runs trained in 3.1-5.8 min each (the fourth then alone in 4.4 min with its decoding); no
# luong2015_table4 run finished, 12 at a time in 525 s nor 2 at a time in 268 s: give them a part of their own.
# Each part has its own time limit, so a slow part costs only itself; logs go to OUT/*.log.
#
#   bash benchmarks/gpu.sh OUT_DIR transformer|bahdanau|sweeps|benchmarks [SPEC...]  (PYTHON=python3; data:
#        $ATTN_RESEARCH_DATA_DIR)
#   QUICK=1 bash benchmarks/gpu.sh OUT_DIR PART             (a smoke run: --quick benchmarks, 20 updates)
set -u
usage="usage: bash benchmarks/gpu.sh OUT_DIR transformer|bahdanau|sweeps|benchmarks [SPEC...]"
out=${1:?$usage}
what=${2:?$usage}
case $what in
  transformer | bahdanau | sweeps | benchmarks) ;;
  *)
    echo "error: the part is transformer, bahdanau, sweeps or benchmarks, got '$what'" >&2
    exit 2
    ;;
esac
specs=("${@:3}")  # the sweeps part's EXPERIMENT[:SCALE[:PARALLEL]]
[ ${#specs[@]} -gt 0 ] || specs=(vaswani2017_heads:full:6)
for spec in "${specs[@]}"; do
  if [ ! -f "experiments/${spec%%:*}.py" ]; then
    echo "error: no experiment experiments/${spec%%:*}.py (a sweeps SPEC is EXPERIMENT[:SCALE[:PARALLEL]])" >&2
    exit 2
  fi
done
py=${PYTHON:-python3}
mkdir -p "$out/benchmarks" "$out/results"
export WANDB_MODE=${WANDB_MODE:-disabled} PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
quick=()
train_extra=(--config.train.num_epochs=20)
bahdanau_extra=()
if [ "${QUICK:-0}" = 1 ]; then
  quick=(--quick)
  train_extra=(--config.train.num_steps=20 --config.train.log_every_steps=10)
  bahdanau_extra=("${train_extra[@]}")
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

multi30k() {  # multi30k MODEL RUN_NAME [CONFIG OVERRIDE...]: trains configs/multi30k.py:model=MODEL, then beam 5
  local model=$1 run_name=$2 workdir
  shift 2
  workdir=$(mktemp -d)/m30k_$model
  part "${model}_train" "${TRAIN_SECONDS:-480}" "$py" -m attn_research.main \
    --config=configs/multi30k.py:model="$model" --workdir="$workdir" "$@" \
    --config.run_name="$run_name" --config.results_dir="$out/results"
  part "${model}_beam5" "${EVAL_SECONDS:-150}" "$py" -m attn_research.evaluate --workdir="$workdir" --split=test \
    --beam=5 --heatmaps=0 --results_dir="$out/results"
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >"$out/nvidia-smi.log" 2>&1
"$py" -c "import jax; print(jax.__version__, jax.devices())" >>"$out/nvidia-smi.log" 2>&1
cat "$out/nvidia-smi.log"

case $what in
  transformer) multi30k transformer de_en_transformer_e20_gpu "${train_extra[@]}" ;;
  bahdanau) multi30k bahdanau de_en_bahdanau_gpu "${bahdanau_extra[@]}" ;;
  sweeps)
    # each SPEC (default: what issue 22 still needs) is EXPERIMENT[:SCALE[:PARALLEL]], all started at once
    for spec in "${specs[@]}"; do
      IFS=: read -r name scale parallel <<<"$spec"
      [ "${QUICK:-0}" = 1 ] && scale=smoke
      scale=${scale:-full}
      [ -d "results/$name" ] && cp -rn "results/$name" "$out/results/"
      part "${name}_$scale" "${SWEEP_SECONDS:-480}" "$py" -m attn_research.sweep "experiments/$name.py" \
        --scale "$scale" --parallel "${parallel:-4}" --results_dir "$out/results" &
    done
    wait
    ;;
  benchmarks)
    for spec in dot_product_attention:90 training_throughput:300 small_updates:150; do
      part "${spec%%:*}" "${spec##*:}" "$py" -m "benchmarks.${spec%%:*}" --out_dir "$out/benchmarks" "${quick[@]}"
    done
    ;;
esac
