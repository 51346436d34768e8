"""Oracle: the first training step of `sakuga train cel|douga` against PyTorch.

Runs the sakuga CLI with --dump-first-step on synthetic data (odd frame size 97x130), loads the
weights it started from into the same network in PyTorch (torchvision ResNet + GCN head, see
test_gcn_model.py), feeds it the dumped input batch in train mode, and compares logits, loss
and every parameter gradient. The reference runs in float64.
"""
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
    cfg_alpha = next((float(s.split("=")[1]) for s in sets if s.startswith("loss.alpha=")), -1.0)
    cw = next((eval(s.split("=")[1]) for s in sets if s.startswith("loss.class_weights=")), None)

    net = GcnNet(18, classes, 7, 3)
    missing, unexpected = net.load_state_dict(weights, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    assert not missing and not unexpected, (missing, unexpected)
    net = net.double().train()
    x = got["input"].double()
    logits = net(x)
    target = got["target"].double()
    loss = reference_loss(kind, logits, target, 2.0, cfg_alpha, cw)
    loss.backward()

    ok = True
    errs = {"logits": rel(got["logits"], logits.detach()), "loss": rel(got["loss"].reshape(()), loss.detach())}
    for name, p in net.named_parameters():
        errs["grad." + name] = rel(got["grad." + name], p.grad)
    worst = max(errs, key=errs.get)
    print(f"{task}/{kind}: logits {errs['logits']:.2e}, loss {errs['loss']:.2e}, "
          f"worst of {len(errs) - 2} gradients {worst} {errs[worst]:.2e}")
    for k, e in errs.items():
        if not e <= TOL:
            print(f"  FAIL {k}: relative error {e:.3e} > {TOL}")
            ok = False
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
