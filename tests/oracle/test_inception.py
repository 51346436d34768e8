"""PyTorch oracle for Inception-v3's pool features (C++ side: tests/oracle_inception.cpp).

torchvision's inception_v3 with random weights (torchvision's init; AuxLogits and fc present, as
in torchvision's file), BN running statistics from a calibration batch and then perturbed, BN
affine parameters random. Its state_dict goes through tools/convert_torchvision.py; the C++ side
loads it with inception::load_inception (fc.* / AuxLogits.* skipped) and must give the same
2048-wide pool features for two images of another size (80×96 and 64×70, in [0, 1]): each
resized bilinearly to 299² (align_corners false), mapped to [−1, 1], through the network to
its global average pool. The reference is computed in float64 from the f32 weights.
"""
import copy
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import convert_torchvision  # noqa: E402

o = oracle.Oracle()
m = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=True, transform_input=False)
for mod in m.modules():
    if isinstance(mod, torch.nn.BatchNorm2d):
        mod.momentum = None
m.train()
with torch.no_grad():
    m(torch.rand(2, 3, 299, 299) * 2 - 1)
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            C = mod.num_features
            mod.weight.copy_(torch.rand(C) + 0.5)
            mod.bias.copy_(torch.randn(C) * 0.2)
            mod.running_mean.add_(torch.randn(C) * 0.1 * mod.running_var.sqrt())
            mod.running_var.mul_(torch.rand(C) * 0.6 + 0.7)
m.eval()


def pool_features(net, img):
    x = F.interpolate(img[None], size=(299, 299), mode="bilinear", align_corners=False) * 2 - 1
    for name in ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
                 "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
                 "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"]:
        x = getattr(net, name)(x)
    return x.mean((2, 3))[0]


tmpdir = tempfile.mkdtemp()
path = os.path.join(tmpdir, "inception.safetensors")
sd = m.state_dict()
assert any(k.startswith("AuxLogits.") for k in sd)
convert_torchvision.write_safetensors(path, convert_torchvision.convert_state_dict(sd))
images = [torch.rand(3, 80, 96), torch.rand(3, 64, 70)]
m64 = copy.deepcopy(m).double()
with torch.no_grad():
    feats = torch.stack([pool_features(m64, im.double()) for im in images]).float()
    # the f32 network (for the record: PyTorch's own float32 error against the f64 truth)
    f32 = torch.stack([pool_features(m, im) for im in images])
err32 = ((f32.double() - feats.double()).norm() / feats.double().norm()).item()
for i, im in enumerate(images):
    o.add(f"image{i}", im)
o.add("features", feats)
o.meta("config", {"weights": path, "images": len(images), "torch_f32_err": err32})
try:
    o.run("oracle_inception")
finally:
    shutil.rmtree(tmpdir)
