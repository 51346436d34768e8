"""Shared plumbing of the PyTorch twins in bench/: each times the same training step as
`sakuga bench train FAMILY` on the same resolved config and prints torch/sakuga.

    build/sakuga bench train toy-gan --steps 50 --json s.json
    python3 bench/torch_toygan_train.py --sakuga-json s.json

The config comes from the sakuga JSON ("config": the resolved config, harness keys included),
so the two sides cannot drift apart.
"""
import argparse
import json
import os
import sys
import time

import torch


class Frozen:
    """harness::FreezeGuard: no parameter gradients for these networks inside the block."""

    def __init__(self, *nets):
        self.params = [p for n in nets for p in n.parameters()]

    def __enter__(self):
        for p in self.params:
            p.requires_grad_(False)

    def __exit__(self, *exc):
        for p in self.params:
            p.requires_grad_(True)


def parser(description):
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sakuga-json", required=True, help="`sakuga bench train --json` output (config and timings)")
    ap.add_argument("--steps", type=int, help="timed steps (default: the sakuga run's)")
    ap.add_argument("--warmup", type=int, help="untimed steps first (default: the sakuga run's)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, help="CPU threads (default: the sakuga run's)")
    ap.add_argument("--json", help="write the result as JSON")
    return ap


def use_sakuga_blas_kernels(s):
    """sakuga runs OpenBLAS on the kernels it chose for this CPU (kernels/cpu/blas_kernels.h; the
    bench JSON's "blas_core"), and Debian's PyTorch links the same OpenBLAS, which reads
    OPENBLAS_CORETYPE once, when it loads: a twin on other kernels would time another library.
    So the twin starts again with the variable set (torch is already loaded when this runs)."""
    core = s.get("blas_core")
    if core and str(core).isalnum() and os.environ.get("OPENBLAS_CORETYPE") != core:
        if os.environ.get("SAKUGA_TWIN_RESTARTED") != "1":
            os.environ.update(OPENBLAS_CORETYPE=core, SAKUGA_TWIN_RESTARTED="1")
            os.execv(sys.executable, [sys.executable] + sys.argv)


def load(a):
    with open(a.sakuga_json) as f:
        s = json.load(f)
    use_sakuga_blas_kernels(s)
    torch.set_num_threads(a.threads or s.get("threads", 1))
    return s, s["config"], torch.device(a.device)


def time_steps(step, steps, warmup, dev):
    """Mean ms per call over `steps` calls after `warmup`, synchronised only at the ends."""
    for _ in range(warmup):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) * 1e3 / steps


def report(a, family, sakuga, stage_ms, batch, dev):
    """stage_ms: {stage name: torch ms/step}; batch: images per step, one number or {stage: n}.
    Prints one line per stage with the ratio."""
    name = torch.cuda.get_device_name() if dev.type == "cuda" else "cpu"
    by_stage = {st["stage"]: st for st in sakuga.get("stages", [])}
    result = {"framework": "torch", "version": torch.__version__, "family": family, "device": name,
              "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"), "stages": []}
    for stage, ms in stage_ms.items():
        n = batch[stage] if isinstance(batch, dict) else batch
        row = {"stage": stage, "ms_per_step": ms, "images_per_s": n * 1e3 / ms}
        line = f"torch {torch.__version__} {family} [{stage}] on {name}: {ms:.3f} ms/step"
        if stage in by_stage:
            s_ms = by_stage[stage]["ms_per_step"]
            row["sakuga_ms_per_step"] = s_ms
            row["ratio_torch_over_sakuga"] = ms / s_ms
            line += (f"; sakuga {s_ms:.3f} ms/step on {sakuga['device']}: torch/sakuga = {ms / s_ms:.2f} "
                     f"({'sakuga faster' if ms > s_ms else 'torch faster'})")
        print(line)
        result["stages"].append(row)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)
