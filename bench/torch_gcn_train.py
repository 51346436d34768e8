"""Time one GCN training step (forward, loss, backward, Adam) in PyTorch on the same config as
`sakuga bench train`, so the two form a ratio.

    build/sakuga bench train douga --config configs/douga-thesis.json --steps 20 --json s.json
    python3 bench/torch_gcn_train.py douga --config configs/douga-thesis.json --steps 20 \
        --device cuda --channels-last --bf16 --sakuga-json s.json

The model is the PyTorch twin of sakuga's GcnNet used by the oracle tests (torchvision ResNet
backbone + the GCN head with the same names). Inputs are random frames and random labels of the
config's data.size / data.batch (timing does not depend on the values). Prints ms/step and,
with --sakuga-json, the ratio torch/sakuga (above 1 = sakuga faster).
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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("task", choices=["cel", "douga"])
    ap.add_argument("--config")
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (sakuga's default is 1)")
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast (CUDA)")
    ap.add_argument("--json", help="write the result as JSON")
    ap.add_argument("--sakuga-json", help="`sakuga bench train --json` output to compare with")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = load_config(a.task, a.config, a.set)
    m = cfg["model"]
    depth = int(m["backbone"].replace("resnet", ""))
    dev = torch.device(a.device)
    net = GcnNet(depth, m["classes"], m["k"], m["in_channels"]).to(dev).train()
    H, W = cfg["data"]["size"]
    N = cfg["data"]["batch"]
    x = torch.rand(N, m["in_channels"], H, W, device=dev)
    if m["classes"] == 1:
        y = (torch.rand(N, 1, H, W, device=dev) > 0.5).float()
    else:
        y = torch.randint(0, m["classes"], (N, H, W), device=dev)
    if a.channels_last:
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(net.parameters(), lr=cfg["train"]["lr"])

    def step():
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=a.bf16):
            logits = net(x)
        loss = loss_fn(cfg, logits.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(a.warmup):
        step()
    sync()
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    sync()
    dt = time.perf_counter() - t0
    ms = dt * 1e3 / a.steps
    peak = torch.cuda.max_memory_allocated() if dev.type == "cuda" else 0
    name = torch.cuda.get_device_name() if dev.type == "cuda" else "cpu"
    mode = ("channels_last " if a.channels_last else "") + ("bf16-autocast" if a.bf16 else "fp32")
    print(f"torch {torch.__version__} {a.task} {m['backbone']} k={m['k']} {H}x{W} batch {N} on {name} ({mode}): "
          f"{ms:.2f} ms/step, {N * a.steps / dt:.2f} images/s, peak {peak / 2**20:.1f} MiB, loss {loss.item():.4f}")
    result = {"framework": "torch", "version": torch.__version__, "task": a.task, "device": name, "mode": mode,
              "ms_per_step": ms, "images_per_s": N * a.steps / dt, "peak_bytes": peak, "steps": a.steps}
    if a.sakuga_json:
        with open(a.sakuga_json) as f:
            s = json.load(f)
        result["sakuga_ms_per_step"] = s["ms_per_step"]
        result["ratio_torch_over_sakuga"] = ms / s["ms_per_step"]
        print(f"sakuga {s['ms_per_step']:.2f} ms/step on {s['device']}: torch/sakuga = {ms / s['ms_per_step']:.2f} "
              f"({'sakuga faster' if ms > s['ms_per_step'] else 'torch faster'})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
