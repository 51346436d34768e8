#!/usr/bin/env python3
"""Host allocator benchmark: the douga demo step and the page faults of a short demo run, for
several sakuga binaries (or one binary with different environments), interleaved.

Each variant is NAME=BINARY[:ENV=V,...], e.g.
  python3 bench/cpu_alloc.py --variant old=/tmp/sakuga-old --variant new=build/sakuga \\
      --variant new-nocache=build/sakuga:SAKUGA_CPU_CACHE=0 --threads 1 \\
      --out bench/results/cpu-2core-alloc-DATE.json

Measured per variant and repetition (the variant order rotates every repetition):
  step     `sakuga bench train douga` (demo defaults) → ms per step
  run      `/usr/bin/time -v sakuga train douga --set train.steps=N` → minor page faults, wall,
           user and system seconds (the system share is the kernel time the faults cost)
The first variant is the baseline of the ratios.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile


def parse_variant(text):
    if "=" not in text:
        sys.exit(f"--variant: expected NAME=BINARY[:ENV=V,...], got {text!r}")
    name, rest = text.split("=", 1)
    binary, _, env_text = rest.partition(":")
    env = {}
    for item in filter(None, env_text.split(",")):
        if "=" not in item:
            sys.exit(f"--variant {text!r}: expected ENV=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        env[k] = v
    return {"name": name, "binary": os.path.abspath(binary), "env": env}


def variant_env(v):
    env = dict(os.environ)
    env.pop("SAKUGA_CPU_CACHE", None)
    env.pop("SAKUGA_CPU_CACHE_LIMIT_MB", None)
    env.update(v["env"])
    return env


def bench_step(v, args, tmp):
    out = os.path.join(tmp, "step.json")
    cmd = [v["binary"], "bench", "train", "douga", "--device", "cpu", "--threads", str(args.threads), "--steps",
           str(args.steps), "--warmup", str(args.warmup), "--json", out]
    subprocess.run(cmd, check=True, env=variant_env(v), stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)["ms_per_step"]


def timed_run(v, args, tmp):
    run_dir = os.path.join(tmp, "run")
    shutil.rmtree(run_dir, ignore_errors=True)
    cmd = ["/usr/bin/time", "-v", v["binary"], "train", "douga", "--device", "cpu", "--threads", str(args.threads),
           "--out", run_dir, "--set", f"train.steps={args.run_steps}"]
    p = subprocess.run(cmd, env=variant_env(v), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stderr[-2000:]}")

    def field(label):
        m = re.search(re.escape(label) + r":\s*([0-9.:]+)", p.stderr)
        if not m:
            sys.exit(f"/usr/bin/time output has no '{label}'")
        return m.group(1)

    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    parts = [float(x) for x in wall.split(":")]
    wall_s = sum(x * 60 ** i for i, x in enumerate(reversed(parts)))
    return {"minor_faults": int(field("Minor (reclaiming a frame) page faults")), "wall_s": wall_s,
            "user_s": float(field("User time (seconds)")), "sys_s": float(field("System time (seconds)"))}


def load_average():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", action="append", type=parse_variant, required=True)
    ap.add_argument("--threads", type=int, default=1, help="--threads for every run (equal for all variants)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10, help="timed bench steps")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--run-steps", type=int, default=50, help="train.steps of the page-fault run")
    ap.add_argument("--out")
    ap.add_argument("--note", default="")
    args = ap.parse_args()
    vs = args.variant
    steps = {v["name"]: [] for v in vs}
    runs = {v["name"]: [] for v in vs}
    loads = []
    with tempfile.TemporaryDirectory(prefix="sakuga-alloc-") as tmp:
        for rep in range(args.reps):
            order = vs[rep % len(vs):] + vs[:rep % len(vs)]
            for v in order:
                before = load_average()
                ms = bench_step(v, args, tmp)
                r = timed_run(v, args, tmp)
                loads.append({"variant": v["name"], "rep": rep + 1, "before": before, "after": load_average()})
                steps[v["name"]].append(ms)
                runs[v["name"]].append(r)
                print(f"rep {rep + 1} {v['name']:14s} step {ms:8.1f} ms   run: {r['minor_faults']:9d} minor faults, "
                      f"wall {r['wall_s']:.1f} s, user {r['user_s']:.1f} s, sys {r['sys_s']:.1f} s", flush=True)
    base = vs[0]["name"]
    base_step = statistics.median(steps[base])
    base_faults = statistics.median(r["minor_faults"] for r in runs[base])
    summary = []
    for v in vs:
        n = v["name"]
        med = statistics.median(steps[n])
        faults = statistics.median(r["minor_faults"] for r in runs[n])
        summary.append({"variant": n, "binary": v["binary"], "env": v["env"], "step_ms": steps[n],
                        "step_ms_median": med, f"step_speedup_vs_{base}": base_step / med, "runs": runs[n],
                        "minor_faults_median": faults, f"faults_ratio_vs_{base}": faults / base_faults,
                        "sys_s_median": statistics.median(r["sys_s"] for r in runs[n]),
                        "wall_s_median": statistics.median(r["wall_s"] for r in runs[n])})
        print(f"{n:14s} step median {med:.1f} ms ({base_step / med:.3f}x vs {base}), minor faults median "
              f"{faults:.0f} ({faults / base_faults:.3f}x)")
    if args.out:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
        doc = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "commit": commit,
               "device": f"{cpu}, {os.cpu_count()} CPUs", "threads": args.threads, "reps": args.reps,
               "bench_steps": args.steps, "warmup": args.warmup, "run_steps": args.run_steps, "note": args.note,
               "loadavg": loads, "results": summary}
        with open(args.out, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
