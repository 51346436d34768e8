"""safetensors interop with Python/PyTorch (C++ side: tests/oracle_safetensors.cpp).

1. Python → C++: tensors of every supported dtype (F32, F64, BF16, I32 (also from int64), U8;
   scalars, empty and non-contiguous tensors) are written with oracle.write_safetensors; their
   expected dtype, shape and values travel separately as JSON text in the metadata, and the
   doctest case "oracle_safetensors" checks that sakuga's reader gives exactly those values.
2. C++ → Python: the same case writes everything it read, plus tensors it made itself, with
   sakuga's writer to $SAKUGA_ORACLE_OUT; a small independent reader below parses that file,
   checks the layout rules the reference safetensors library enforces (JSON object header
   starting with '{', dense non-overlapping offsets covering the data exactly) and compares
   every value bit for bit.
"""
import json
import math
import os
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import torch  # noqa: E402

o = oracle.Oracle()
g = torch.Generator().manual_seed(1234)

tensors = {
    "f32": torch.randn(2, 3, 5, generator=g),
    "f32_special": torch.tensor([0.0, -0.0, 1e-42, 3.4e38, float("inf"), -float("inf"), float("nan"), 1.0 / 3.0]),
    "f64": torch.randn(4, 3, generator=g, dtype=torch.float64),
    "bf16": (torch.randn(3, 7, generator=g) * 10).to(torch.bfloat16),
    "i32": torch.tensor([[-2**31, -1, 0], [1, 12345, 2**31 - 1]], dtype=torch.int32),
    "i64_as_i32": torch.arange(-5, 7, dtype=torch.int64).reshape(3, 4),
    "u8": torch.arange(256, dtype=torch.uint8).reshape(16, 16).flip(0),
    "scalar_f32": torch.tensor(3.5),
    "scalar_i32": torch.tensor(-7, dtype=torch.int32),
    "empty_f32": torch.zeros(0, 3),
    "empty_u8": torch.zeros(2, 0, dtype=torch.uint8),
    "noncontig": torch.arange(12, dtype=torch.float32).reshape(3, 4).t(),
    "layer1.0.conv1.weight": torch.randn(4, 2, 3, 3, generator=g),
}
_NAMES = {torch.float32: "F32", torch.float64: "F64", torch.bfloat16: "BF16", torch.int32: "I32",
          torch.int64: "I32", torch.uint8: "U8"}


def json_value(x):
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return x


def expectation(t):
    flat = t.contiguous().reshape(-1)
    if t.dtype == torch.bfloat16:  # exact: the bit patterns
        values = [int(v) & 0xFFFF for v in flat.view(torch.int16).tolist()]
    elif t.dtype in (torch.float32, torch.float64):
        values = [json_value(float(v)) for v in flat.tolist()]  # repr of a double: exact
    else:
        values = [int(v) for v in flat.tolist()]
    return {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "values": values}


for name, t in tensors.items():
    o.add(name, t)
    o.meta("expect." + name, expectation(t))
o.meta("names", sorted(tensors))
o.metadata["note"] = "λ → ∞, ünïcode and \"quotes\""

fd, out_path = tempfile.mkstemp(suffix=".safetensors")
os.close(fd)
os.environ["SAKUGA_ORACLE_OUT"] = out_path
try:
    try:
        o.run("oracle_safetensors")
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    if code != 0:
        sys.exit(code)

    # ---- C++ → Python: an independent reader ------------------------------------------------
    with open(out_path, "rb") as f:
        blob = f.read()
    assert len(blob) >= 8, "sakuga wrote a file shorter than 8 bytes"
    (n,) = struct.unpack("<Q", blob[:8])
    assert 8 + n <= len(blob), "header length runs past the end"
    raw_header = blob[8:8 + n]
    assert raw_header[:1] == b"{", "header must start with '{'"
    header = json.loads(raw_header.decode("utf-8"))
    data = blob[8 + n:]
    assert (8 + n) % 8 == 0, "data section should be 8-byte aligned"
    meta = header.pop("__metadata__", {})
    spans = sorted((v["data_offsets"][0], v["data_offsets"][1], k) for k, v in header.items())
    pos = 0
    for b, e, k in spans:
        assert b == pos, f"tensor {k}: offsets not dense (begins at {b}, expected {pos})"
        pos = e
    assert pos == len(data), f"data section has {len(data)} bytes, tensors cover {pos}"

    torch_dtype = {"F32": torch.float32, "F64": torch.float64, "BF16": torch.bfloat16,
                   "I32": torch.int32, "U8": torch.uint8}

    def load(k):
        v = header[k]
        b, e = v["data_offsets"]
        dt = torch_dtype[v["dtype"]]
        count = math.prod(v["shape"])
        assert e - b == count * torch.empty((), dtype=dt).element_size(), f"tensor {k}: size mismatch"
        if count == 0:
            return torch.empty(v["shape"], dtype=dt)
        return torch.frombuffer(bytearray(data[b:e]), dtype=dt).reshape(v["shape"])

    failures = []

    def same(k, got, want):
        want = want.contiguous()
        if want.dtype == torch.int64:
            want = want.to(torch.int32)
        if got.dtype != want.dtype or list(got.shape) != list(want.shape):
            failures.append(f"{k}: {got.dtype}{list(got.shape)} vs {want.dtype}{list(want.shape)}")
        elif got.numel() and got.reshape(-1).view(torch.uint8).tolist() != want.reshape(-1).view(torch.uint8).tolist():
            failures.append(f"{k}: values differ")

    for name, t in tensors.items():
        if name not in header:
            failures.append(f"{name}: missing from sakuga's file")
            continue
        same(name, load(name), t)
    made = {
        "cpp.f32": torch.tensor([[0.5, -1.25, 3.0], [1e-3, -0.0, 65504.0]]),
        "cpp.bf16": torch.tensor([1.0, -2.0, 0.1, 300.0], dtype=torch.float32).to(torch.bfloat16),
        "cpp.f64": torch.tensor([1.0 / 3.0, -2.5e-300], dtype=torch.float64),
        "cpp.i32": torch.tensor([7, -8, 2**31 - 1], dtype=torch.int32),
        "cpp.u8": torch.tensor([[0, 1], [254, 255]], dtype=torch.uint8),
        "cpp.scalar": torch.tensor(42.0),
        "cpp.empty": torch.zeros(0, 4, dtype=torch.bfloat16),
    }
    for name, t in made.items():
        if name not in header:
            failures.append(f"{name}: missing from sakuga's file")
            continue
        same(name, load(name), t)
    if meta.get("writer") != "sakuga" or meta.get("note") != o.metadata["note"]:
        failures.append(f"metadata not preserved: {meta}")
    if failures:
        print("C++ → Python safetensors check FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print(f"C++ → Python: {len(header)} tensors and metadata read back exactly")
    sys.exit(0)
finally:
    if os.path.exists(out_path):
        os.unlink(out_path)
