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
import os
import subprocess
import sys
import tempfile

try:
    import torch  # noqa: F401
except ImportError:  # pragma: no cover
    print("torch not importable: oracle test skipped")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from safetensors_write import write_safetensors  # noqa: E402,F401  (re-exported for the tests)

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
