"""Oracle: 5 steps of torch.optim SGD / Adam / AdamW / RMSprop (several option sets) from the
same initial parameters and fixed gradients; sakuga must reach the same parameters."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import torch  # noqa: E402

STEPS = 5
CASES = [
    ("sgd", dict(lr=0.05, momentum=0.9, weight_decay=1e-2)),
    ("sgd", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("sgd", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-3)),
    ("sgd", dict(lr=0.1)),
    ("adam", dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8)),
    ("adam", dict(lr=2e-4, betas=(0.5, 0.999), weight_decay=1e-2)),
    ("adam", dict(lr=1e-2, amsgrad=True)),
    ("adamw", dict(lr=1e-2, weight_decay=1e-2)),
    ("adamw", dict(lr=1e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("rmsprop", dict(lr=1e-2, alpha=0.99, eps=1e-8)),
    ("rmsprop", dict(lr=2e-5, alpha=0.9, weight_decay=1e-3)),
    ("rmsprop", dict(lr=1e-2, momentum=0.9, centered=True)),
]

OPT = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
       "rmsprop": torch.optim.RMSprop}


def main():
    o = oracle.Oracle()
    o.meta("cases", len(CASES))
    o.meta("steps", STEPS)
    for ci, (kind, opts) in enumerate(CASES):
        c = f"c{ci}"
        params = [torch.randn(4, 3), torch.randn(5), torch.randn(2, 3, 3, 3) * 0.1]
        for i, p in enumerate(params):
            o.add(f"{c}.p{i}", p.clone())
        ps = [torch.nn.Parameter(p.clone()) for p in params]
        opt = OPT[kind](ps, **opts)
        for k in range(STEPS):
            for i, p in enumerate(ps):
                g = torch.randn_like(p) * (0.1 + i)
                o.add(f"{c}.g{k}.{i}", g)
                p.grad = g.clone()
            opt.step()
        for i, p in enumerate(ps):
            o.add(f"{c}.want{i}", p.detach().clone())
        meta = dict(opts)
        if "betas" in meta:
            meta["beta1"], meta["beta2"] = meta.pop("betas")
        meta["kind"] = kind
        meta["nparams"] = len(params)
        o.meta(c, meta)
    o.run("oracle_optim")


if __name__ == "__main__":
    main()
