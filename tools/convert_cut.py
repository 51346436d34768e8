#!/usr/bin/python3
"""Convert a CUT / Scenimefy generator checkpoint (.pth, e.g. latest_net_G.pth) to safetensors for
sakuga's scenimefy generator (nets/scenimefy/networks.h: CUT's ResnetGenerator, same names).

    /usr/bin/python3 tools/convert_cut.py latest_net_G.pth G.safetensors

Names are kept (`model.1.weight`, `model.12.conv_block.5.bias`, the blur filters `model.7.filt`, ...);
a "module." prefix (DataParallel) is stripped; float tensors are stored as F32. A dict holding the
state_dict under "state_dict" / "model" / "G" / "netG" is accepted too. Needs torch (Debian
python3-torch); the safetensors format is written by hand (tools/safetensors_write.py).
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_write import write_safetensors  # noqa: E402


def load_state_dict(path):
    obj = torch.load(path, map_location="cpu")
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "G", "netG"):
            if key in obj and isinstance(obj[key], dict):
                return obj[key]
        return obj
    sys.exit(f"{path}: not a state_dict, a model or a dict holding one")


def convert(sd):
    out = {}
    for name, t in sd.items():
        if name.startswith("module."):
            name = name[len("module."):]
        if not torch.is_tensor(t):
            continue
        t = t.detach().cpu().contiguous()
        out[name] = t.float() if t.is_floating_point() else t.to(torch.int32)
    if not any(k.startswith("model.") for k in out):
        sys.exit("no 'model.*' tensors: not a CUT ResnetGenerator state_dict")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help=".pth checkpoint of the generator")
    ap.add_argument("output", help="output .safetensors")
    a = ap.parse_args()
    tensors = convert(load_state_dict(a.input))
    write_safetensors(a.output, tensors, {"format": "cut-generator"})
    print(f"{a.output}: {len(tensors)} tensors")


if __name__ == "__main__":
    main()
