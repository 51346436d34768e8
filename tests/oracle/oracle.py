"""PyTorch oracle tests: compute reference values with torch (CPU, f32/f64), hand them to a
C++ doctest case through one safetensors file, and let it compare sakuga's results.

    import oracle
    o = oracle.Oracle()                      # exits 77 (ctest: skipped) without torch
    o.add("c0.x", x); o.meta("c0", {"stride": 2})
    o.run("oracle_conv")                     # runs sakuga_tests -tc=oracle_conv, exits with its code

Written without the safetensors package (not in Debian): the format is 8-byte little-endian
header length, JSON header, raw data.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile


def _blas_kernels_of_the_tests():
    """The sakuga binaries restart themselves with OPENBLAS_CORETYPE set when the OpenBLAS they
    link does not know the CPU (kernels/cpu/blas_kernels.h); Debian's PyTorch links the same
    OpenBLAS. The float32 replays that set some oracles' error floors must run the kernels sakuga
    runs, and OpenBLAS reads the variable when it loads: so it is taken from the binary under test
    before torch is imported."""
    if "OPENBLAS_CORETYPE" in os.environ or "--tests" not in sys.argv[:-1]:
        return
    tests = sys.argv[sys.argv.index("--tests") + 1]
    try:
        r = subprocess.run([tests, "--print-blas-core"], capture_output=True, text=True, timeout=60)
    except OSError:
        return
    core = r.stdout.strip()
    if r.returncode == 0 and core.isalnum():
        os.environ["OPENBLAS_CORETYPE"] = core


_blas_kernels_of_the_tests()

try:
    import torch  # noqa: F401
except ImportError:  # pragma: no cover
    print("torch not importable: oracle test skipped")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from safetensors_write import write_safetensors  # noqa: E402,F401  (re-exported for the tests)

def rel(a, b):
    """Relative error ‖a − b‖ / ‖b‖ in float64."""
    a, b = a.double().flatten(), b.double().flatten()
    return ((a - b).norm() / b.norm().clamp_min(1e-30)).item()


def compare_step(got, want, want32, tol):
    """A replayed training step against sakuga's dump: every tensor of `want` (float64 truth)
    against `got`, bound max(tol, 3× the float32 replay's own error). A conv bias in front of an
    instance norm has a zero gradient in exact arithmetic: gradients ("grad.NET.…") below 1e-5 of
    their network's largest are compared absolutely against that. Prints each failure; returns
    (ok, (worst name, worst error), zero gradients)."""
    scale = {}
    for k, w in want.items():
        if k.startswith("grad."):
            net = k.split(".")[1]
            scale[net] = max(scale.get(net, 0.0), w.double().norm().item())
    ok, worst, zeros = True, ("", 0.0), 0
    for k, w in want.items():
        if k not in got:
            print(f"  FAIL {k}: not in the dump")
            ok = False
            continue
        g = got[k].reshape(w.shape)
        net = k.split(".")[1] if k.startswith("grad.") else None
        if net and w.double().norm().item() < 1e-5 * scale[net]:
            zeros += 1
            if not (g.double() - w.double()).norm().item() <= 1e-5 * scale[net]:
                print(f"  FAIL {k}: {g.double().norm().item():.3e} where the truth is ~0")
                ok = False
            continue
        e = rel(g, w)
        bound = max(tol, 3 * rel(want32[k], w))
        if e > worst[1]:
            worst = (k, e)
        if not e <= bound or math.isnan(e):
            print(f"  FAIL {k}: relative error {e:.3e} > {bound:.3e}")
            ok = False
    return ok, worst, zeros


class Oracle:
    def __init__(self):
        ap = argparse.ArgumentParser()
        ap.add_argument("--sakuga", default=None)
        ap.add_argument("--tests", required=True)
        self.args, _ = ap.parse_known_args()
        self.tensors = {}
        self.metadata = {}
        torch.manual_seed(0)

    def add(self, name, t):
        self.tensors[name] = t

    def meta(self, name, value):
        """Per-case parameters; the C++ side reads them as JSON."""
        self.metadata[name] = json.dumps(value)

    def run(self, test_case):
        fd, path = tempfile.mkstemp(suffix=".safetensors")
        os.close(fd)
        try:
            write_safetensors(path, self.tensors, self.metadata)
            env = dict(os.environ, SAKUGA_ORACLE_FILE=path)
            r = subprocess.run([self.args.tests, "-tc=" + test_case, "--no-intro", "--no-version"], env=env)
            if r.returncode == 0:
                # doctest exits 0 when the filter matches nothing: make sure the case exists.
                lst = subprocess.run([self.args.tests, "-ltc", "-tc=" + test_case], capture_output=True, text=True)
                if test_case not in lst.stdout:
                    print(f"no doctest case named {test_case}")
                    sys.exit(1)
            sys.exit(r.returncode)
        finally:
            os.unlink(path)
