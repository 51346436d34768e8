"""Oracle: the first training step of `sakuga train cel|douga` against PyTorch.

Runs the sakuga CLI with --dump-first-step on synthetic data (odd frame size 97x130), loads the
weights it started from into the same network in PyTorch (torchvision ResNet + GCN head, see
test_gcn_model.py), feeds it the dumped input batch in train mode, and compares logits, loss
and every parameter gradient. The reference runs in float64.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402  (exits 77 without torch)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision  # noqa: E402

from safetensors_write import read_safetensors  # noqa: E402
from test_gcn_model import GcnNet  # noqa: E402

# task, classes, loss kind, extra --set
CASES = [
    ("douga", 10, "focal", []),
    ("douga", 10, "wce", ["loss.class_weights=[0.5,2,2,2,2,1,1,1,1,1]"]),
    ("cel", 1, "focal", ["loss.alpha=0.25"]),
    ("cel", 1, "bce", []),
]
TOL = 1e-4


def rel(a, b):
    a, b = a.double().flatten(), b.double().flatten()
    return ((a - b).norm() / b.norm().clamp_min(1e-30)).item()


def reference_loss(kind, logits, target, gamma, alpha, weights):
    if logits.shape[1] == 1:  # cel
        if kind == "bce":
            return F.binary_cross_entropy_with_logits(logits, target)
        return torchvision.ops.sigmoid_focal_loss(logits, target, alpha=alpha, gamma=gamma, reduction="mean")
    t = target.long()
    w = None if weights is None else torch.tensor(weights, dtype=logits.dtype)
    if kind == "ce":
        return F.cross_entropy(logits, t)
    if kind == "wce":
        return F.cross_entropy(logits, t, weight=w)
    logp = F.log_softmax(logits, 1).gather(1, t.unsqueeze(1)).squeeze(1)
    fl = -((1 - logp.exp()) ** gamma) * logp
    if w is not None:
        fl = fl * w[t]
    return fl.mean()


def run_case(sakuga, task, classes, kind, sets, tmp):
    out = os.path.join(tmp, f"{task}-{kind}")
    dump = out + ".first.safetensors"
    cmd = [sakuga, "train", task, "--synthetic", "--out", out, "--dump-first-step", dump, "--device", "cpu",
           "--set", "model.k=7", "--set", "data.size=[97,130]", "--set", "data.batch=2",
           "--set", "train.steps=1", "--set", "data.val_count=0", "--set", f"loss.kind={kind}"]
    for s in sets:
        cmd += ["--set", s]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout, r.stderr)
        return False
    got, _ = read_safetensors(dump)
    weights, _ = read_safetensors(dump + ".weights.safetensors")
    with open(os.path.join(out, "config.json")) as f:
        loss_cfg = json.load(f)["loss"]  # the run's resolved config: defaults + --set
    cfg_alpha, gamma = loss_cfg["alpha"], loss_cfg["gamma"]
    cw = loss_cfg["class_weights"] or None

    def reference(dtype):
        net = GcnNet(18, classes, 7, 3)
        missing, unexpected = net.load_state_dict(weights, strict=False)
        missing = [k for k in missing if not k.endswith("num_batches_tracked")]
        assert not missing and not unexpected, (missing, unexpected)
        net = net.to(dtype).train()
        logits = net(got["input"].to(dtype))
        loss = reference_loss(kind, logits, got["target"].to(dtype), gamma, cfg_alpha, cw)
        loss.backward()
        out = {"logits": logits.detach(), "loss": loss.detach().reshape(1)}
        for name, p in net.named_parameters():
            out["grad." + name] = p.grad
        return out

    # The truth is computed in float64. Where float32 arithmetic itself cannot get within 1e-4 of
    # it (BatchNorm's backward cancels a near-constant gradient: the cel logit's gradient is
    # almost uniform at the first step), the bound is 3x PyTorch's own float32 error there.
    # PyTorch's float32 error is taken with oneDNN off, i.e. with its im2col + BLAS convolutions,
    # the algorithm sakuga's CPU path uses: oneDNN's direct convolutions happen to be far more
    # accurate on this ill-conditioned step on some CPUs (measured on a Skylake-X Xeon: cel
    # conv1 / layer1 gradients within 3e-6 with oneDNN, sakuga's within 1e-2, PyTorch's own
    # without oneDNN of the same order as sakuga's; the test had passed on an AMD EPYC), which
    # made the bound depend on the machine rather than on sakuga.
    want = reference(torch.float64)
    with torch.backends.mkldnn.flags(enabled=False):
        torch32 = reference(torch.float32)
    ok = True
    worst, widened = ("", 0.0), 0
    for k, w in want.items():
        e = rel(got[k].reshape(w.shape), w)
        floor = rel(torch32[k], w)
        bound = max(TOL, 3 * floor)
        widened += bound > TOL
        if e > worst[1]:
            worst = (k, e)
        if not e <= bound:
            print(f"  FAIL {k}: relative error {e:.3e} > {bound:.3e} (torch float32: {floor:.3e})")
            ok = False
    print(f"{task}/{kind}: logits {rel(got['logits'], want['logits']):.2e}, loss "
          f"{rel(got['loss'].reshape(1), want['loss']):.2e}, worst of {len(want) - 2} gradients {worst[0]} "
          f"{worst[1]:.2e}; {widened} bounds widened to 3x torch float32's error")
    return ok


def main():
    o = oracle.Oracle()  # parses --sakuga / --tests
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for task, classes, kind, sets in CASES:
            ok = run_case(o.args.sakuga, task, classes, kind, sets, tmp) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
