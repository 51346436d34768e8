"""Time one GCN training step (forward, loss, backward, Adam) in PyTorch on the same config as
`sakuga bench train`, so the two form a ratio.

    build/sakuga bench train douga --config configs/douga-thesis.json --steps 20 --json s.json
    python3 bench/torch_gcn_train.py douga --config configs/douga-thesis.json --steps 20 \
        --device cuda --modes eager-fp32,eager-tf32,cl-bf16,compile-cl-bf16 --sakuga-json s.json

The model is the PyTorch twin of sakuga's GcnNet used by the oracle tests (torchvision ResNet
backbone + the GCN head with the same names). Inputs are random frames and random labels of the
config's data.size / data.batch (timing does not depend on the values). Prints ms/step and,
with --sakuga-json, the ratio torch/sakuga (above 1 = sakuga faster).

Modes (--modes, comma list; each builds its own network from the same seed):
  eager-fp32       TF32 off for matmul and cuDNN: plain float32
  eager-tf32       TF32 on for matmul and cuDNN (the match for sakuga's default GPU precision)
  cl-bf16          channels_last memory format + bf16 autocast (TF32 on): PyTorch's usual fast path
  compile-cl-bf16  cl-bf16 under torch.compile (inductor); its compile time is reported apart
                   (first_step_s) and stays out of ms_per_step
Without --modes: one run as set by --channels-last / --bf16 with PyTorch's default TF32 flags.
cuDNN runs with benchmark=False (its heuristics), as sakuga's algorithm choice does.
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "oracle"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision  # noqa: E402

from test_gcn_model import GcnNet  # noqa: E402
import twin  # noqa: E402


def merge(dst, src):
    for k, v in src.items():
        if k.startswith("_"):
            continue
        if isinstance(v, dict):
            merge(dst.setdefault(k, {}), v)
        else:
            dst[k] = v


def load_config(task, path, sets):
    with open(os.path.join(HERE, "..", "configs", f"{task}-demo.json")) as f:
        cfg = json.load(f)  # the built-in defaults
    if path:
        with open(path) as f:
            merge(cfg, json.load(f))
    for s in sets:
        key, value = s.split("=", 1)
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            pass
        d = cfg
        *head, last = key.split(".")
        for h in head:
            d = d[h]
        d[last] = value
    return cfg


def loss_fn(cfg, logits, target):
    kind, gamma = cfg["loss"]["kind"], cfg["loss"]["gamma"]
    if logits.shape[1] == 1:
        if kind == "bce":
            return F.binary_cross_entropy_with_logits(logits, target)
        return torchvision.ops.sigmoid_focal_loss(logits, target, alpha=cfg["loss"]["alpha"], gamma=gamma,
                                                  reduction="mean")
    if kind in ("ce", "wce"):
        w = cfg["loss"]["class_weights"] or None
        return F.cross_entropy(logits, target, weight=None if w is None else torch.tensor(w, device=logits.device))
    logp = F.log_softmax(logits.float(), 1).gather(1, target.unsqueeze(1)).squeeze(1)
    return (-((1 - logp.exp()) ** gamma) * logp).mean()


MODES = {
    # name: (channels_last, bf16 autocast, tf32, compile)
    "eager-fp32": (False, False, False, False),
    "eager-tf32": (False, False, True, False),
    "cl-bf16": (True, True, True, False),
    "compile-cl-bf16": (True, True, True, True),
}


def build(cfg, dev, channels_last, seed=0):
    m = cfg["model"]
    torch.manual_seed(seed)
    depth = int(m["backbone"].replace("resnet", ""))
    net = GcnNet(depth, m["classes"], m["k"], m["in_channels"]).to(dev).train()
    net.p = m.get("dropout", 0.0)  # dropout on each backbone feature, as sakuga's GcnNet
    H, W = cfg["data"]["size"]
    N = cfg["data"]["batch"]
    x = torch.rand(N, m["in_channels"], H, W, device=dev)
    if m["classes"] == 1:
        y = (torch.rand(N, 1, H, W, device=dev) > 0.5).float()
    else:
        y = torch.randint(0, m["classes"], (N, H, W), device=dev)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    return net, x, y


def time_mode(a, cfg, dev, channels_last, bf16, compile_net):
    """One mode's timing: dict of ms_per_step, images_per_s, peak_bytes, first_step_s, loss."""
    net, x, y = build(cfg, dev, channels_last)
    opt = torch.optim.Adam(net.parameters(), lr=cfg["train"]["lr"])
    fwd = torch.compile(net) if compile_net else net

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    def step():
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=bf16):
            logits = fwd(x)
        loss = loss_fn(cfg, logits.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    t_first = time.perf_counter()
    step()  # the first step: cuDNN/cuBLAS set-up, and for compile the whole compilation
    sync()
    first = time.perf_counter() - t_first
    for _ in range(max(0, a.warmup - 1)):
        step()
    sync()
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    sync()
    dt = time.perf_counter() - t0
    N = cfg["data"]["batch"]
    r = {"ms_per_step": dt * 1e3 / a.steps, "images_per_s": N * a.steps / dt, "first_step_s": first,
         "peak_bytes": torch.cuda.max_memory_allocated() if dev.type == "cuda" else 0, "loss": loss.item()}
    del net, opt, fwd, x, y
    if dev.type == "cuda":
        torch.cuda.empty_cache()
    return r


def set_tf32(on):
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("task", choices=["cel", "douga"])
    ap.add_argument("--config")
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first (at least 1 is run)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (sakuga's default is 1)")
    ap.add_argument("--modes", help="comma list of " + ", ".join(MODES))
    ap.add_argument("--channels-last", action="store_true", help="without --modes")
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast (without --modes)")
    ap.add_argument("--json", help="write the result as JSON")
    ap.add_argument("--sakuga-json", help="`sakuga bench train --json` output to compare with")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.backends.cudnn.benchmark = False
    cfg = load_config(a.task, a.config, a.set)
    m = cfg["model"]
    dev = torch.device(a.device)
    H, W = cfg["data"]["size"]
    N = cfg["data"]["batch"]
    name = torch.cuda.get_device_name() if dev.type == "cuda" else "cpu"
    sakuga = None
    if a.sakuga_json:
        with open(a.sakuga_json) as f:
            sakuga = json.load(f)
        twin.use_sakuga_blas_kernels(sakuga)
    what = f"torch {torch.__version__} {a.task} {m['backbone']} k={m['k']} {H}x{W} batch {N} on {name}"

    if not a.modes:  # one run, the flags as given
        r = time_mode(a, cfg, dev, a.channels_last, a.bf16, False)
        mode = ("channels_last " if a.channels_last else "") + ("bf16-autocast" if a.bf16 else "fp32")
        print(f"{what} ({mode}): {r['ms_per_step']:.2f} ms/step, {r['images_per_s']:.2f} images/s, "
              f"peak {r['peak_bytes'] / 2**20:.1f} MiB, loss {r['loss']:.4f}")
        result = {"framework": "torch", "version": torch.__version__, "task": a.task, "device": name,
                  "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"), "mode": mode,
                  "steps": a.steps, **{k: r[k] for k in ("ms_per_step", "images_per_s", "peak_bytes")}}
        if sakuga:
            result["sakuga_ms_per_step"] = sakuga["ms_per_step"]
            result["ratio_torch_over_sakuga"] = r["ms_per_step"] / sakuga["ms_per_step"]
            print(f"sakuga {sakuga['ms_per_step']:.2f} ms/step on {sakuga['device']}: torch/sakuga = "
                  f"{result['ratio_torch_over_sakuga']:.2f}")
    else:
        result = {"framework": "torch", "version": torch.__version__, "task": a.task, "device": name,
                  "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
                  "steps": a.steps, "warmup": a.warmup, "config": {"model": m, "data": cfg["data"]}, "modes": []}
        for mode in a.modes.split(","):
            if mode not in MODES:
                ap.error(f"--modes: unknown mode '{mode}' (known: {', '.join(MODES)})")
            channels_last, bf16, tf32, compile_net = MODES[mode]
            row = {"mode": mode}
            if compile_net and not hasattr(torch, "compile"):
                row["status"] = f"skipped: torch {torch.__version__} has no torch.compile"
            else:
                set_tf32(tf32)
                row.update(time_mode(a, cfg, dev, channels_last, bf16, compile_net))
                row["status"] = "ok"
            result["modes"].append(row)
            if "ms_per_step" not in row:
                print(f"mode {mode}: {row['status']}", flush=True)
                continue
            ratio = f", torch/sakuga {row['ms_per_step'] / sakuga['ms_per_step']:.2f}" if sakuga else ""
            print(f"mode {mode}: {row['ms_per_step']:.2f} ms/step, first step {row['first_step_s']:.1f} s, "
                  f"peak {row['peak_bytes'] / 2**30:.2f} GiB{ratio}", flush=True)
        print(f"{what}: {len(result['modes'])} modes"
              + (f"; sakuga {sakuga['ms_per_step']:.2f} ms/step on {sakuga['device']}" if sakuga else ""))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
