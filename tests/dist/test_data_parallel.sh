#!/usr/bin/env bash
# Data-parallel training on CPU ranks (docs/distributed.md), with `mpirun --oversubscribe -np 2`:
#   - Fashion-MNIST (SGD, dropout, train.sync_bn) and a tiny douga GCN (Adam, sync_bn): two ranks
#     give the one-process run's first-step gradients, losses and weights within the stated bounds,
#     and without sync_bn they do not (the comparison can fail);
#   - repeated two-rank runs are byte-identical; a run interrupted and resumed with the same world
#     size is byte-identical to the uninterrupted one; resuming with another world size agrees
#     within the bounds;
#   - a killed rank, a failing rank and a rank with another config end the job with a message
#     naming the rank and a non-zero status, within a bounded time; the last checkpoint resumes;
#   - a global batch that does not split evenly is a clear error.
# Exit 77 (skipped) when mpirun or numpy is missing or sakuga was built without MPI.
# Usage: test_data_parallel.sh path/to/sakuga path/to/compare_runs.py [python3]
set -u
sakuga=$1
compare=$2
py=${3:-/usr/bin/python3}
command -v mpirun >/dev/null || { echo "SKIP: mpirun not found (apt: openmpi-bin; tools/setup installs it)"; exit 77; }
"$sakuga" info | grep -q "MPI on" || { echo "SKIP: this sakuga was built without MPI (apt: libopenmpi-dev)"; exit 77; }
"$py" -c "import numpy" 2>/dev/null || { echo "SKIP: $py cannot import numpy (apt: python3-numpy)"; exit 77; }
[ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
  { echo "SKIP: Fashion-MNIST missing (apt: dataset-fashion-mnist)"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
# CI runs as root; OpenMPI refuses that unless told. One thread per rank on the 2-core machine.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# Containers often forbid the cross-memory attach that OpenMPI's shared-memory transport tries first.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export SAKUGA_THREADS=1
mpi=(mpirun --oversubscribe -np 2)

ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
check() {  # name, command...
  local name=$1
  shift
  local out
  if out=$("$@" 2>&1); then ok "$name: $(echo "$out" | grep -v '^OK$' | tr '\n' ' ' | cut -c1-200)"; else
    bad "$name"; echo "$out" | tail -n 12; fi
}
check_fails() {  # name, command... (must fail: the comparison can tell a wrong run)
  local name=$1
  shift
  if "$@" >/dev/null 2>&1; then bad "$name: expected a difference"; else ok "$name"; fi
}
run() {  # out dir, extra args...: a training run whose log goes to OUT.log
  local out=$1
  shift
  "$@" --out "$out" >"$out.log" 2>&1 || { bad "run $out: $(tail -n 3 "$out.log")"; return 1; }
}

# --- Fashion-MNIST: SGD (Adam's per-coordinate normalisation magnifies last-bit differences where
#     a gradient is near zero), dropout on. Bounds (docs/distributed.md): the layers above the
#     max-pools get the one-process gradient to float32 summation (1e-5); below them a max whose
#     place moves under a last-bit difference sends one gradient element elsewhere (1e-2); over
#     24 steps losses, accuracy and weights agree to 1e-2, and without sync_bn they do not.
fm=(train fashion-mnist --device cpu --set data.train_limit=2048 --set data.test_limit=512 --set data.batch=32
    --set train.steps=24 --set train.log_every=1 --set train.eval_every=12 --set train.checkpoint_every=12
    --set train.optimizer=sgd --set train.lr=0.01)
run "$tmp/fm1" "$sakuga" "${fm[@]}" --set train.sync_bn=true --dump-first-step "$tmp/fm1.dump.safetensors"
run "$tmp/fm2" "${mpi[@]}" "$sakuga" "${fm[@]}" --set train.sync_bn=true --dump-first-step "$tmp/fm2.dump.safetensors"
run "$tmp/fm2b" "${mpi[@]}" "$sakuga" "${fm[@]}" --set train.sync_bn=true
run "$tmp/fm2nosync" "${mpi[@]}" "$sakuga" "${fm[@]}"
check "fmnist 2 ranks = 1 process: first-step gradients above the pools: fc1, fc2, bn2 (rtol 1e-5)" \
  "$py" "$compare" "$tmp/fm1.dump.safetensors" "$tmp/fm2.dump.safetensors" --grads --rtol 1e-5 \
  --only grad.model.fc --only grad.model.bn2
check "fmnist 2 ranks = 1 process: first-step gradients of every layer (rtol 1e-2)" \
  "$py" "$compare" "$tmp/fm1.dump.safetensors" "$tmp/fm2.dump.safetensors" --grads --rtol 1e-2
check "fmnist 2 ranks = 1 process: losses, accuracy and weights after 24 steps (rtol 1e-2)" \
  "$py" "$compare" "$tmp/fm1" "$tmp/fm2" --rtol 1e-2 --skip optim.
check_fails "fmnist without train.sync_bn differs from 1 process (per-rank BatchNorm)" \
  "$py" "$compare" "$tmp/fm1" "$tmp/fm2nosync" --rtol 1e-2 --skip optim.
check "fmnist 2 ranks twice: byte-identical" "$py" "$compare" "$tmp/fm2" "$tmp/fm2b" --identical
grep -q '"test_accuracy"' "$tmp/fm2/metrics.jsonl" && ok "fmnist: sharded evaluation logged" ||
  bad "fmnist: no test_accuracy in metrics.jsonl"

# Resume: interrupted at step 12 (the checkpoint there), continued with 2 and with 1 rank(s); and
# a 1-process start continued on 2 ranks.
run "$tmp/fm2r" "${mpi[@]}" "$sakuga" "${fm[@]}" --set train.sync_bn=true --stop-after 12
cp -r "$tmp/fm2r" "$tmp/fm2r1"
run "$tmp/fm2r" "${mpi[@]}" "$sakuga" "${fm[@]}" --resume
check "fmnist 2 ranks, resumed on 2 at step 12: byte-identical" "$py" "$compare" "$tmp/fm2" "$tmp/fm2r" --identical
run "$tmp/fm2r1" "$sakuga" "${fm[@]}" --resume
check "fmnist 2 ranks, resumed on 1 at step 12: within bounds" \
  "$py" "$compare" "$tmp/fm1" "$tmp/fm2r1" --rtol 1e-2 --skip optim.
run "$tmp/fm1r" "$sakuga" "${fm[@]}" --set train.sync_bn=true --stop-after 12
run "$tmp/fm1r" "${mpi[@]}" "$sakuga" "${fm[@]}" --resume
check "fmnist 1 process, resumed on 2 ranks at step 12: within bounds" \
  "$py" "$compare" "$tmp/fm1" "$tmp/fm1r" --rtol 1e-2 --skip optim.

# --- a tiny douga GCN (ResNet-18 backbone, BatchNorm everywhere, Adam as the thesis).
gcn=(train douga --device cpu --set data.size=[64,64] --set data.batch=4 --set model.k=5 --set data.val_count=4
     --set train.steps=6 --set train.log_every=1 --set train.eval_every=3 --set train.checkpoint_every=3
     --set train.sync_bn=true)
run "$tmp/g1" "$sakuga" "${gcn[@]}" --dump-first-step "$tmp/g1.dump.safetensors"
run "$tmp/g2" "${mpi[@]}" "$sakuga" "${gcn[@]}" --dump-first-step "$tmp/g2.dump.safetensors"
run "$tmp/g2b" "${mpi[@]}" "$sakuga" "${gcn[@]}"
check "gcn 2 ranks = 1 process: first-step gradients (rtol 1e-4)" \
  "$py" "$compare" "$tmp/g1.dump.safetensors" "$tmp/g2.dump.safetensors" --grads --rtol 1e-4
# Adam moves each weight by about ±lr whatever its gradient, which magnifies last-bit differences
# where a gradient is near zero: the weights are compared through their updates over the 6 steps.
# The validation metrics count argmax decisions over 4 images, which such weight differences move
# further than the losses (val_mean_iou measured 1.7 % apart on an AMD EPYC; the losses stay within
# 1e-2): they get 5e-2.
check "gcn 2 ranks = 1 process: losses (rtol 1e-2) and validation metrics (5e-2)" \
  "$py" "$compare" "$tmp/g1" "$tmp/g2" --rtol 1e-2 --scalar-rtol val_=5e-2 --scalars-only
check "gcn 2 ranks = 1 process: weight updates (rtol 0.15)" \
  "$py" "$compare" "$tmp/g1" "$tmp/g2" --rtol 0.15 --skip optim. --init "$tmp/g1.dump.safetensors.weights.safetensors"
run "$tmp/g2nosync" "${mpi[@]}" "$sakuga" "${gcn[@]}" --set train.sync_bn=false
check_fails "gcn without train.sync_bn: losses differ from 1 process" \
  "$py" "$compare" "$tmp/g1" "$tmp/g2nosync" --rtol 1e-2 --scalars-only
check_fails "gcn without train.sync_bn: weight updates differ from 1 process" \
  "$py" "$compare" "$tmp/g1" "$tmp/g2nosync" --rtol 0.15 --skip optim. \
  --init "$tmp/g1.dump.safetensors.weights.safetensors"
check "gcn 2 ranks twice: byte-identical" "$py" "$compare" "$tmp/g2" "$tmp/g2b" --identical
run "$tmp/g2r" "${mpi[@]}" "$sakuga" "${gcn[@]}" --stop-after 3
cp -r "$tmp/g2r" "$tmp/g2r1"
run "$tmp/g2r" "${mpi[@]}" "$sakuga" "${gcn[@]}" --resume
check "gcn 2 ranks, resumed on 2 at step 3: byte-identical" "$py" "$compare" "$tmp/g2" "$tmp/g2r" --identical
run "$tmp/g2r1" "$sakuga" "${gcn[@]}" --resume
check "gcn 2 ranks, resumed on 1 at step 3: losses and weight updates within bounds" \
  "$py" "$compare" "$tmp/g1" "$tmp/g2r1" --rtol 0.15 --skip optim. --init "$tmp/g1.dump.safetensors.weights.safetensors"
check "gcn 2 ranks, resumed on 1 at step 3: losses (rtol 1e-2) and validation metrics (5e-2)" \
  "$py" "$compare" "$tmp/g1" "$tmp/g2r1" --rtol 1e-2 --scalar-rtol val_=5e-2 --scalars-only

# --- gadn: three stages, several optimisers and frozen networks per step, sampled codes and
#     styles from sharded streams, no BatchNorm: 2 ranks give the one-process losses.
ga=(train gadn --device cpu --set model.channels=[8,16,16] --set model.fc=32 --set model.z=8 --set data.artists=4
    --set data.train_limit=200 --set data.val_count=24 --set data.batch=4 --set eval.samples=2 --set eval.styles=2
    --set train.log_every=1 --set train.eval_every=0 --set train.checkpoint_every=0 --set train.stages.stage1.steps=6
    --set train.stages.c2.steps=3 --set train.stages.c2.batch=4 --set train.stages.stage2.steps=4)
run "$tmp/ga1" "$sakuga" "${ga[@]}"
run "$tmp/ga2" "${mpi[@]}" "$sakuga" "${ga[@]}"
check "gadn 2 ranks = 1 process: losses of all three stages (rtol 1e-4)" \
  "$py" "$compare" "$tmp/ga1" "$tmp/ga2" --rtol 1e-4 --scalars-only

# --- faults: each must end the whole job, non-zero, naming the rank, within 60 s.
expect_job_error() {  # name, text the output must contain, command...
  local name=$1 needle=$2
  shift 2
  local out rc start=$SECONDS
  out=$(timeout 90 "$@" 2>&1)
  rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
    bad "$name: exit status $rc (want a failure, not success or the 90 s timeout)"; echo "$out" | tail -n 8
  elif ! grep -qF -- "$needle" <<<"$out"; then
    bad "$name: output lacks '$needle'"; echo "$out" | tail -n 8
  elif [ $((SECONDS - start)) -gt 60 ]; then
    bad "$name: took $((SECONDS - start)) s"
  else
    ok "$name (status $rc, $((SECONDS - start)) s): $(grep -F -- "$needle" <<<"$out" | head -n 1 | cut -c1-150)"
  fi
}
expect_job_error "a global batch that does not split" "does not split evenly" \
  "${mpi[@]}" "$sakuga" "${fm[@]}" --set data.batch=33 --out "$tmp/odd"
expect_job_error "rank 1 with a bad config (MPMD launch)" "rank 1 of 2" \
  mpirun --oversubscribe -np 1 "$sakuga" "${fm[@]}" --out "$tmp/mpmd" : -np 1 "$sakuga" "${fm[@]}" \
  --set train.optimizer=nope --out "$tmp/mpmd"
expect_job_error "rank 1 with another config" "differs from rank 0's" \
  mpirun --oversubscribe -np 1 "$sakuga" "${fm[@]}" --out "$tmp/mpmd2" : -np 1 "$sakuga" "${fm[@]}" \
  --set train.lr=0.02 --out "$tmp/mpmd2"
expect_job_error "train.dist_backend nccl on the CPU" "NCCL needs a CUDA device" \
  "${mpi[@]}" "$sakuga" "${fm[@]}" --set train.dist_backend=nccl --out "$tmp/nccl"

# A rank killed (SIGKILL) in the middle of a long run.
long=(train fashion-mnist --device cpu --set data.train_limit=2048 --set data.test_limit=512 --set data.batch=32
      --set train.steps=100000 --set train.log_every=10 --set train.checkpoint_every=20 --set train.optimizer=sgd)
start=$SECONDS
"${mpi[@]}" "$sakuga" "${long[@]}" --out "$tmp/killed" >"$tmp/killed.log" 2>&1 &
job=$!
victim=""
for _ in $(seq 1 300); do
  sleep 0.2
  if [ -e "$tmp/killed/checkpoints/last.safetensors" ] && [ -z "$victim" ]; then
    for pid in $(pgrep -f -- "--out $tmp/killed" || true); do
      if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1"; then victim=$pid; fi
    done
    [ -n "$victim" ] && { sleep 1; kill -9 "$victim"; break; }
  fi
done
if [ -z "$victim" ]; then
  bad "killed rank: no rank-1 process found"; kill "$job" 2>/dev/null
else
  rc=0
  for _ in $(seq 1 300); do kill -0 "$job" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$job" 2>/dev/null; then
    bad "killed rank: the job still runs 60 s after rank 1 was killed"; kill -9 "$job"
  else
    wait "$job"; rc=$?
    if [ "$rc" -ne 0 ] && grep -q "rank 1" "$tmp/killed.log"; then
      ok "killed rank: job ended in $((SECONDS - start)) s with status $rc: $(grep -m1 'rank 1' "$tmp/killed.log" | cut -c1-140)"
    else
      bad "killed rank: status $rc, log:"; tail -n 8 "$tmp/killed.log"
    fi
    # last.safetensors is a hard link to the newest step file: the step is in metrics.jsonl's
    # checkpointed history; resume reads it and runs one more step.
    step=$(ls "$tmp/killed/checkpoints" | sed -n 's/^step-0*\([0-9][0-9]*\)\.safetensors$/\1/p' | sort -n | tail -n 1)
    if "$sakuga" "${long[@]}" --out "$tmp/killed" --resume --stop-after $((step + 1)) >"$tmp/resume.log" 2>&1; then
      ok "killed rank: the last checkpoint (step $step) resumes"
    else
      bad "killed rank: resuming from step $step failed: $(tail -n 3 "$tmp/resume.log")"
    fi
  fi
fi

[ "$fail" -eq 0 ] && echo "data-parallel: all passed" || echo "data-parallel: FAILURES"
exit "$fail"
