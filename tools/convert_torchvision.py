#!/usr/bin/python3
"""Convert a torchvision ResNet or Inception-v3 checkpoint to safetensors for sakuga's ResNet backbone
(nets/resnet, loaded by resnet::load_torchvision_weights / `--pretrained FILE.safetensors`) or its
Inception-v3 pool features for FID / KID (nets/inception, `sakuga eval scenimefy --inception FILE`).

    # a state_dict saved with torch.save (also accepts a pickled model, or a dict holding the
    # state_dict under "state_dict" / "model")
    /usr/bin/python3 tools/convert_torchvision.py resnet50-0676ba61.pth resnet50.safetensors
    # torchvision's own weights (downloads them unless already in the torch hub cache)
    /usr/bin/python3 tools/convert_torchvision.py --arch resnet50 --weights IMAGENET1K_V1 resnet50.safetensors
    /usr/bin/python3 tools/convert_torchvision.py --arch inception_v3 --weights IMAGENET1K_V1 inception.safetensors

Names are kept as they are (`conv1.weight`, `layer2.0.downsample.1.running_mean`, ...); a
"module." prefix (DataParallel) is stripped; the classifier `fc.*` is dropped (sakuga's ResNet
is a backbone); `num_batches_tracked` (int64) is stored as I32 (sakuga's safetensors has no
I64); float tensors are stored as F32. Needs torch (Debian python3-torch); no safetensors
package: the format is written by hand (8-byte little-endian header length, JSON header, data).
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_write import write_safetensors  # noqa: E402


def convert_state_dict(sd):
    """torchvision ResNet state_dict -> {name: tensor} ready to write (fc dropped, i64 -> i32)."""
    out = {}
    for name, t in sd.items():
        if name.startswith("module."):
            name = name[len("module."):]
        if name.startswith("fc."):
            continue
        t = t.detach().cpu().contiguous()
        if t.dtype == torch.int64:
            t = t.to(torch.int32)
        elif t.is_floating_point():
            t = t.to(torch.float32)
        out[name] = t
    return out


def load_checkpoint(path):
    obj = torch.load(path, map_location="cpu")
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict):
        for key in ("state_dict", "model"):
            if key in obj and isinstance(obj[key], dict):
                return obj[key]
        return obj
    sys.exit(f"{path}: not a state_dict, a model or a dict holding one")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", nargs="?", help=".pth checkpoint (omit with --arch/--weights)")
    ap.add_argument("output", help="output .safetensors")
    ap.add_argument("--arch", help="torchvision model name: resnet18, resnet34, resnet50, resnet101, inception_v3")
    ap.add_argument("--weights", help="torchvision weights enum name, e.g. IMAGENET1K_V1 (with --arch)")
    args = ap.parse_args()
    if args.input:
        sd, source = load_checkpoint(args.input), args.input
    elif args.arch:
        import torchvision
        model = getattr(torchvision.models, args.arch)(weights=args.weights)
        sd, source = model.state_dict(), f"torchvision.models.{args.arch}(weights={args.weights})"
    else:
        ap.error("give an input checkpoint or --arch (and --weights)")
    tensors = convert_state_dict(sd)
    if "conv1.weight" not in tensors or not any(k.startswith("layer4.") for k in tensors):
        sys.exit(f"{source}: does not look like a torchvision ResNet (no conv1.weight / layer4.*)")
    write_safetensors(args.output, tensors, {"source": source, "format": "torchvision-resnet"})
    n = sum(t.numel() for k, t in tensors.items() if t.is_floating_point())
    print(f"{args.output}: {len(tensors)} tensors, {n:,} float values (fc dropped)")


if __name__ == "__main__":
    main()
