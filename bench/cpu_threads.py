#!/usr/bin/env python3
"""CPU thread policy benchmark: 1 thread vs the default (and any other variant) on an idle and
on a busy machine, as ratios measured in one run.

Workloads:
  douga   `sakuga bench train douga` (the demo step: R18, k 7, 96², batch 4) → ms per step
  fmnist  a short `sakuga train fashion-mnist` run (many short parallel regions: the case where
          spin-waiting threads collapsed under load) → wall seconds of the whole process
Loads:
  idle    nothing else started by this script (other users of the machine are not controlled:
          the load average before/after each measurement is recorded)
  busy    one extra CPU-bound process (`yes > /dev/null`) runs during the measurement

Variants are `name:threads:ENV=V,ENV=V[:BINARY]`; threads 0 = do not pass --threads (the
binary's own default); BINARY (default --sakuga) lets one run compare binaries. Repetitions
are interleaved (the variant order rotates every repetition), so slow drifts of the machine's
load hit every variant alike. The first variant is the baseline of the ratios. Examples:

  python3 bench/cpu_threads.py --sakuga build/sakuga --out bench/results/cpu-2core-threads-DATE.json
  python3 bench/cpu_threads.py --sakuga build/sakuga --variant 1thread:1: --variant default:0: \
      --variant old-2threads:2::/tmp/sakuga-old --reps 5
"""
import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def parse_variant(text):
    parts = text.split(":", 3)
    if len(parts) < 3 or not parts[0]:
        sys.exit(f"--variant: expected name:threads:ENV=V,...[:BINARY], got {text!r}")
    name, threads, env_text = parts[:3]
    binary = os.path.abspath(parts[3]) if len(parts) == 4 and parts[3] else None
    try:
        threads = int(threads)
    except ValueError:
        sys.exit(f"--variant {text!r}: threads must be an integer (0 = the binary's default)")
    env = {}
    for item in filter(None, env_text.split(",")):
        if "=" not in item:
            sys.exit(f"--variant {text!r}: expected ENV=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        env[k] = v
    return {"name": name, "threads": threads, "env": env, "binary": binary}


def load_average():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def run_douga(binary, variant, args, tmp):
    out = os.path.join(tmp, "bench.json")
    cmd = [binary, "bench", "train", "douga", "--device", "cpu", "--steps", str(args.steps), "--warmup",
           str(args.warmup), "--json", out]
    if variant["threads"] > 0:
        cmd += ["--threads", str(variant["threads"])]
    subprocess.run(cmd, check=True, env=variant_env(variant), stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)["ms_per_step"]


def run_fmnist(binary, variant, args, tmp):
    run_dir = os.path.join(tmp, "fmnist")
    shutil.rmtree(run_dir, ignore_errors=True)
    cmd = [binary, "train", "fashion-mnist", "--device", "cpu", "--out", run_dir, "--set",
           f"train.steps={args.fmnist_steps}", "--set", "data.test_limit=1000", "--set", "train.checkpoint_every=0"]
    if variant["threads"] > 0:
        cmd += ["--threads", str(variant["threads"])]
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, env=variant_env(variant), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - t0


def variant_env(variant):
    env = dict(os.environ)
    # The variant alone decides the OpenMP / sakuga thread settings.
    for k in ("SAKUGA_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OPENBLAS_NUM_THREADS"):
        env.pop(k, None)
    env.update(variant["env"])
    return env


WORKLOADS = {"douga": (run_douga, "ms_per_step"), "fmnist": (run_fmnist, "wall_s")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sakuga", default="build/sakuga", help="the sakuga binary")
    ap.add_argument("--out", help="write the results as JSON here")
    ap.add_argument("--variant", action="append", type=parse_variant,
                    help="name:threads:ENV=V,...[:BINARY] (default: 1thread:1: and default:0:)")
    ap.add_argument("--workload", action="append", choices=sorted(WORKLOADS), help="default: both")
    ap.add_argument("--load", action="append", choices=["idle", "busy"], help="default: both")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10, help="timed douga steps per repetition")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--fmnist-steps", type=int, default=200)
    ap.add_argument("--note", default="", help="free text stored with the results (e.g. what else ran)")
    args = ap.parse_args()
    variants = args.variant or [parse_variant("1thread:1:"), parse_variant("default:0:")]
    workloads = args.workload or ["douga", "fmnist"]
    loads = args.load or ["idle", "busy"]
    binary = os.path.abspath(args.sakuga)

    results = []
    with tempfile.TemporaryDirectory(prefix="sakuga-threads-") as tmp:
        for load in loads:
            for workload in workloads:
                fn, unit = WORKLOADS[workload]
                times = {v["name"]: [] for v in variants}
                loadavg = []
                for rep in range(args.reps):
                    order = variants[rep % len(variants):] + variants[:rep % len(variants)]
                    for v in order:
                        hog = subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) if load == "busy" else None
                        try:
                            before = load_average()
                            t = fn(v["binary"] or binary, v, args, tmp)
                            loadavg.append({"variant": v["name"], "before": before, "after": load_average()})
                        finally:
                            if hog:
                                hog.kill()
                                hog.wait()
                        times[v["name"]].append(t)
                        print(f"{load:5s} {workload:7s} {v['name']:16s} rep {rep + 1}: {t:.3f} {unit}", flush=True)
                base = statistics.median(times[variants[0]["name"]])
                for v in variants:
                    med = statistics.median(times[v["name"]])
                    results.append({"load": load, "workload": workload, "variant": v["name"],
                                    "binary": v["binary"] or binary,
                                    "threads": v["threads"], "env": v["env"], "unit": unit, "runs": times[v["name"]],
                                    "median": med,
                                    f"speedup_vs_{variants[0]['name']}": base / med,
                                    "loadavg": [x for x in loadavg if x["variant"] == v["name"]]})
                    print(f"{load:5s} {workload:7s} {v['name']:16s} median {med:.3f} {unit}, "
                          f"{base / med:.2f}x vs {variants[0]['name']}", flush=True)

    if args.out:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        cpu = ""
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        doc = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "commit": commit, "device": f"{cpu}, {os.cpu_count()} CPUs", "binary": binary,
               "note": args.note, "steps": args.steps, "warmup": args.warmup, "fmnist_steps": args.fmnist_steps,
               "reps": args.reps, "results": results}
        with open(args.out, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
