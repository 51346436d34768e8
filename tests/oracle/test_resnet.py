"""PyTorch oracle for the ResNet backbones (C++ side: tests/oracle_resnet.cpp).

torchvision resnet18 and resnet50 with random weights: convs as torchvision initialises them,
BN affine parameters random, running statistics set from a calibration batch and then
perturbed (so activations stay well scaled through 50 layers while every buffer matters).
The state_dict (with fc.*, as torchvision has it) goes through tools/convert_torchvision.py
into its own safetensors file, which the C++ side loads with load_torchvision_weights.

Per network `n`:
- eval mode, x (1×3×97×130): the stage outputs f1..f4;
- train mode, x (2×3×64×80): loss = Σ f4·R; the gradient of every parameter, and every
  BN buffer after that one training forward (running stats, num_batches_tracked).
References are computed in float64 from the f32 weights and stored as f32; the C++ case
checks a max-norm relative error <= 1e-4, and that the state_dict names are torchvision's,
in torchvision's order.

Precision note: resnet50's train-mode gradients are ill-conditioned in f32 — PyTorch's own f32
gradients differ from its f64 ones by a median 2% (max 30%) max-norm relative error on
2×3×64×80 (ReLU masks flip where BN's batch statistics over 12 values per channel amplify
round-off; resnet18: 1.4e-5). So resnet50's train check ("train_f64") runs sakuga in f64 (same
f32 weights and input, converted), at 1e-4; resnet18's train check and both eval checks run
in f32. The measured PyTorch f32 error is stored in the meta ("torch_f32_grad_err") for the
record.
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import torch  # noqa: E402
import copy  # noqa: E402

import torchvision  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import convert_torchvision  # noqa: E402

o = oracle.Oracle()
tmpdir = tempfile.mkdtemp()
nets = []


def stages(m, x):
    x = m.maxpool(m.relu(m.bn1(m.conv1(x))))
    f = []
    for layer in (m.layer1, m.layer2, m.layer3, m.layer4):
        x = layer(x)
        f.append(x)
    return f


def add(arch):
    m = getattr(torchvision.models, arch)()
    # Running statistics from a calibration batch (cumulative average), then perturbed.
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.momentum = None
    m.train()
    with torch.no_grad():
        stages(m, torch.randn(2, 3, 64, 64))
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                C = mod.num_features
                mod.momentum = 0.1
                mod.weight.copy_(torch.rand(C) + 0.5)
                mod.bias.copy_(torch.randn(C) * 0.2)
                mod.running_mean.add_(torch.randn(C) * 0.1 * mod.running_var.sqrt())
                mod.running_var.mul_(torch.rand(C) * 0.6 + 0.7)
                mod.num_batches_tracked.fill_(int(torch.randint(0, 100, ()).item()))
    path = os.path.join(tmpdir, arch + ".safetensors")
    sd = m.state_dict()
    assert any(k.startswith("fc.") for k in sd)
    convert_torchvision.write_safetensors(path, convert_torchvision.convert_state_dict(sd))
    names = [k for k in sd if not k.startswith("fc.")]

    m32 = copy.deepcopy(m)
    m = m.double()
    # eval
    m.eval()
    x = torch.rand(1, 3, 97, 130) * 2 - 1
    with torch.no_grad():
        f = stages(m, x.double())
    o.add(f"{arch}.x_eval", x)
    for i, t in enumerate(f):
        o.add(f"{arch}.f{i + 1}", t.float())
    # train
    m.train()
    x = torch.rand(2, 3, 64, 80) * 2 - 1
    f4 = stages(m, x.double())[3]
    r = torch.randn(f4.shape)
    (f4 * r.double()).sum().backward()
    m32.train()
    f4_32 = stages(m32, x)[3]
    (f4_32 * r).sum().backward()
    f32_err = max(((p32.grad.double() - p.grad).abs().max() / p.grad.abs().max()).item()
                  for (k, p), (_, p32) in zip(m.named_parameters(), m32.named_parameters())
                  if not k.startswith("fc."))
    o.add(f"{arch}.x_train", x)
    o.add(f"{arch}.r", r)
    for k, p in m.named_parameters():
        if not k.startswith("fc."):
            o.add(f"{arch}.grad.{k}", p.grad.float())
    for k, b in m.named_buffers():
        o.add(f"{arch}.buf.{k}", b.float() if b.is_floating_point() else b)
    o.meta(arch, {"depth": int(arch[len("resnet"):]), "weights": path, "names": names,
                  "train_f64": arch == "resnet50", "torch_f32_grad_err": f32_err})
    nets.append(arch)


try:
    add("resnet18")
    add("resnet50")
    o.meta("nets", nets)
    o.run("oracle_resnet")  # exits
finally:
    shutil.rmtree(tmpdir, ignore_errors=True)
