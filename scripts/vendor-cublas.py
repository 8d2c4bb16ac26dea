#!/usr/bin/env python3
"""Vendor-library references on NVIDIA: cuBLAS through PyTorch, written as fleetbench cases.

Measures, on the GPU that a fleetbench result file describes:
  - SGEMM (f32, TF32 off)                      -> vendor/cublas-sgemm/matmul/f32/<n>x<n>x<n>
  - dense f16 GEMM (f32 accumulation enforced) -> vendor/cublas-hgemm/matmul/f16/...
  - int8 GEMM, torch._int_mm (i32 output)      -> vendor/cublas-int_mm/matmul/i8/...
  - device-to-device copy                      -> vendor/cuda-memcpy_d2d/copy/f32/<elements>x1x1
  - dense bf16 GEMM is measured and printed, but not written: fleetbench has no bf16 dtype.

Each case: warm-up, then at least 10 samples timed with CUDA events (and the host clock around
each synchronised sample), fresh random inputs before every sample (outside the timed region),
and the output of the first call checked against an f64 (or exact integer) reference. Cases are
vendor-family cases (see src/measure/host_refs.rs): never part of a WGSL capability figure; compare and
report show WGSL / vendor per shape.

Usage:
  vendor-cublas.py --like RESULT.json -o OUT.json [--sizes 8192,4096] [--samples 10]
  vendor-cublas.py --like RESULT.json -o OUT.json --dry-run   # no CUDA: a CPU stand-in
`--like` supplies the machine record (run fleetbench on the same GPU first). `--dry-run`
exercises everything but CUDA (file layout, statistics, verification plumbing) with a
pure-Python stand-in labelled `dry-run`; its figures are not measurements. Check the output
with `fleetbench validate OUT.json`, which recomputes every statistic from the raw samples.
"""

import argparse
import hashlib
import json
import math
import os
import random
import sys
import time
from datetime import datetime, timezone

SCHEMA_VERSION = 2
MEDIAN_LEVEL = 0.95
DISAGREEMENT_LIMIT = 0.10


# --- statistics, the same definitions as src/stats (validate recomputes and compares) ---

def quantile(sorted_values, q):
    pos = min(max(q, 0.0), 1.0) * (len(sorted_values) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def median_ci(sorted_values, level):
    n = len(sorted_values)
    alpha = 1.0 - level
    ln_half_n = n * math.log(2.0)
    ln_choose, cumulative, j = 0.0, 0.0, 0
    for i in range(n):
        cumulative += math.exp(ln_choose - ln_half_n)
        if cumulative > alpha / 2.0:
            break
        j = i + 1
        ln_choose += math.log(n - i) - math.log(i + 1)
    lower = max(j, 1)
    upper = max(n + 1 - lower, lower)
    return sorted_values[lower - 1], sorted_values[upper - 1]


def summary(values):
    s = sorted(values)
    med = quantile(s, 0.5)
    low, high = median_ci(s, MEDIAN_LEVEL)
    mad = quantile(sorted(abs(v - med) for v in s), 0.5)
    return {
        "n": len(s),
        "median": {"value": med, "low": low, "high": high, "level": MEDIAN_LEVEL},
        "min": s[0],
        "max": s[-1],
        "mad": mad,
    }


def work(workload):
    """(unit, work per call in GFLOP or GB), as RateUnit::of."""
    m, n, k = float(workload["m"]), float(workload["n"]), float(workload["k"])
    size = {"f32": 4.0, "f16": 2.0, "bf16": 2.0, "i8": 1.0}[workload["dtype"]]
    if workload["op"] == "matmul":
        return "GFLOP/s", 2.0 * m * n * k / 1e9
    return "GB/s", 2.0 * size * m / 1e9  # copy: read + write


def timing(workload, host_s, gpu_s, per_sample, warmup):
    unit, amount = work(workload)
    headline = gpu_s if gpu_s is not None else host_s
    rates = [amount / t for t in sorted(headline)]
    host, gpu = summary(host_s), (summary(gpu_s) if gpu_s is not None else None)
    disagreement = None
    if gpu is not None:
        g = gpu["median"]["value"]
        disagreement = abs(host["median"]["value"] - g) / g
    return {
        "headline": "gpu_timestamps" if gpu_s is not None else "host_clock",
        "dispatches_per_sample": per_sample,
        "warmup_dispatches": warmup,
        "host_s": host_s,
        "gpu_s": gpu_s,
        "host": host,
        "gpu": gpu,
        "unit": unit,
        "throughput": summary(rates),
        "clock_disagreement": disagreement,
        "clocks_disagree": disagreement is not None and disagreement > DISAGREEMENT_LIMIT,
    }


# --- cases ---

def kernel_record(kernel_id, library):
    ident = f"{library['name']}|{library['version']}|{library['routine']}"
    return {
        "id": kernel_id,
        "family": "vendor",
        "source_hash": hashlib.sha256(ident.encode()).hexdigest(),
        "overrides": {},
        "workgroup_size": [1, 1, 1],
        "dispatch": [1, 1, 1],
        "bounds_checks": False,
        "layout_note": None,
        "library": library,
    }


def make_case(kernel_id, library, workload, seed, check, raw, reason=None):
    key = f"{workload['op']}/{workload['dtype']}/{workload['m']}x{workload['n']}x{workload['k']}"
    rel_error, tolerance, reference = check
    passed = raw is not None and rel_error <= tolerance
    return {
        "id": f"{kernel_id}/{key}",
        "workload": workload,
        "kernel": kernel_record(kernel_id, library),
        "status": "passed" if passed else "failed",
        "reason": None if passed else (reason or f"verification failed: {rel_error:e} > {tolerance:e}"),
        "seed": seed,
        "verification": {
            "rel_error": rel_error,
            "tolerance": tolerance,
            "reference": reference,
            "checked_elements": workload["m"] * workload["n"],
            "total_elements": workload["m"] * workload["n"],
        },
        "timing": timing(workload, *raw) if passed else None,
    }


def matmul(dtype, n):
    return {"op": "matmul", "dtype": dtype, "m": n, "n": n, "k": n}


def copy_workload(elements):
    return {"op": "copy", "dtype": "f32", "m": elements, "n": 1, "k": 1}


# --- the CUDA measurements ---

class Cuda:
    """cuBLAS through PyTorch; imported only here, so --dry-run needs no torch."""

    def __init__(self, samples, warmup_s):
        import torch  # noqa: PLC0415 (optional dependency)

        self.torch = torch
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = False
        torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = False
        self.samples, self.warmup_s = samples, warmup_s
        self.version = f"torch {torch.__version__}, CUDA {torch.version.cuda}"
        self.device = torch.device("cuda")

    def library(self, name, routine, notes):
        return {"name": name, "version": self.version, "routine": routine, "notes": notes}

    def inputs(self, dtype, n, gen):
        t = self.torch
        if dtype == t.int8:
            return [t.randint(-128, 128, (n, n), dtype=t.int8, device=self.device, generator=gen)
                    for _ in range(2)]
        return [t.rand((n, n), dtype=t.float32, device=self.device, generator=gen).mul_(2).sub_(1)
                .to(dtype) for _ in range(2)]

    def time(self, call, fresh):
        """Warm-up by time, then samples of `per` calls on fresh inputs: (host_s, gpu_s, per, warm)."""
        t = self.torch
        args = fresh()
        start, warm = time.perf_counter(), 0
        while warm < 3 or time.perf_counter() - start < self.warmup_s:
            call(*args)
            warm += 1
        t.cuda.synchronize()
        per_call = (time.perf_counter() - start) / warm
        per = max(1, min(1000, math.ceil(0.02 / max(per_call, 1e-9))))
        host_s, gpu_s = [], []
        for _ in range(self.samples):
            args = fresh()
            t.cuda.synchronize()
            begin, end = t.cuda.Event(enable_timing=True), t.cuda.Event(enable_timing=True)
            h0 = time.perf_counter()
            begin.record()
            for _ in range(per):
                call(*args)
            end.record()
            end.synchronize()
            host_s.append((time.perf_counter() - h0) / per)
            gpu_s.append(begin.elapsed_time(end) / 1e3 / per)
        return host_s, gpu_s, per, warm

    def gemm_case(self, name, routine, dtype_name, n, seed, notes):
        t = self.torch
        dtype = {"f32": t.float32, "f16": t.float16, "bf16": t.bfloat16, "i8": t.int8}[dtype_name]
        gen = t.Generator(device=self.device).manual_seed(seed)
        call = t._int_mm if dtype == t.int8 else t.matmul
        a, b = self.inputs(dtype, n, gen)
        got = call(a, b).double()
        want = a.double() @ b.double()
        if dtype == t.int8:
            check = (0.0 if t.equal(got, want) else float("inf"), 0.0, "exact_i64")
        else:
            rel = (t.linalg.norm(got - want) / t.linalg.norm(want)).item()
            check = (rel, {t.float32: 1e-4, t.float16: 1e-2}.get(dtype, 2e-2), "cuda_f64")
        raw = self.time(call, lambda: self.inputs(dtype, n, gen))
        lib = self.library(name, routine, notes)
        return make_case(f"vendor/{name}-{routine}", lib, matmul(dtype_name, n), seed, check, raw)

    def copy_case(self, elements, seed):
        t = self.torch
        gen = t.Generator(device=self.device).manual_seed(seed)
        src = t.rand(elements, device=self.device, generator=gen)
        dst = t.empty_like(src)
        dst.copy_(src)
        check = (0.0 if t.equal(dst, src) else float("inf"), 0.0, "exact")
        fresh = lambda: (dst, t.rand(elements, device=self.device, generator=gen))  # noqa: E731
        raw = self.time(lambda d, s: d.copy_(s), fresh)
        lib = self.library("cuda", "memcpy_d2d", "torch Tensor.copy_ between device tensors")
        return make_case("vendor/cuda-memcpy_d2d", lib, copy_workload(elements), seed, check, raw)


def cuda_cases(args, elements):
    cuda = Cuda(args.samples, args.warmup)
    cases = []
    for n in args.sizes:
        cases.append(cuda.gemm_case("cublas", "sgemm", "f32", n, args.seed,
                                    "torch.matmul f32, allow_tf32 = False"))
        cases.append(cuda.gemm_case("cublas", "hgemm", "f16", n, args.seed,
                                    "torch.matmul f16 inputs, reduced-precision reduction off"))
        cases.append(cuda.gemm_case("cublas", "int_mm", "i8", n, args.seed,
                                    "torch._int_mm, i8 inputs, i32 output (tensor cores)"))
        bf16 = cuda.gemm_case("cublas", "bf16gemm", "bf16", n, args.seed,
                              "torch.matmul bf16 (not written: fleetbench has no bf16 dtype)")
        if bf16["timing"]:
            print(f"bf16 GEMM {n}^3: {bf16['timing']['throughput']['median']['value']:.0f} "
                  "GFLOP/s (printed only)", file=sys.stderr)
    cases.append(cuda.copy_case(elements, args.seed))
    return cases


# --- dry run: everything but CUDA ---

def dry_run_cases(args, elements):
    """Pure-Python stand-ins with the same shapes of data; labelled so nobody mistakes them."""
    lib = {"name": "dry-run", "version": "0", "routine": "sgemm",
           "notes": "fleetbench dry run of scripts/vendor-cublas.py: not a measurement",
           # One Python thread on the host CPU: checked against host limits, not the adapter's.
           "host_threads": 1}
    rng = random.Random(args.seed)
    n = 24
    a = [[rng.uniform(-1, 1) for _ in range(n)] for _ in range(n)]
    b = [[rng.uniform(-1, 1) for _ in range(n)] for _ in range(n)]

    def call():
        return [[sum(a[i][p] * b[p][j] for p in range(n)) for j in range(n)] for i in range(n)]

    got = call()
    want = [[math.fsum(a[i][p] * b[p][j] for p in range(n)) for j in range(n)] for i in range(n)]
    diff = math.sqrt(sum((g - w) ** 2 for gr, wr in zip(got, want) for g, w in zip(gr, wr)))
    norm = math.sqrt(sum(w * w for wr in want for w in wr))
    host_s = []
    for _ in range(args.samples):
        h0 = time.perf_counter()
        call()
        host_s.append(max(time.perf_counter() - h0, 1e-9))
    cases = [make_case("vendor/dry-run-sgemm", lib, matmul("f32", n), args.seed,
                       (diff / norm, 1e-4, "python_fsum"), (host_s, None, 1, 0))]
    copy_lib = dict(lib, routine="memcpy_d2d")
    src = [rng.random() for _ in range(elements)]
    host_s = []
    for _ in range(args.samples):
        h0 = time.perf_counter()
        dst = list(src)
        host_s.append(max(time.perf_counter() - h0, 1e-9))
    ok = 0.0 if dst == src else float("inf")
    cases.append(make_case("vendor/dry-run-memcpy_d2d", copy_lib, copy_workload(elements),
                           args.seed, (ok, 0.0, "exact"), (host_s, None, 1, 0)))
    return cases


def copy_elements(like):
    """The element count of the fleetbench copy ceiling in the reference file (like for like)."""
    sizes = [c["workload"]["m"] for c in like["cases"] if c["workload"]["op"] == "copy"]
    return max(sizes) if sizes else 48 << 20


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--like", required=True, help="a fleetbench result file of the same GPU")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--sizes", default="8192,4096",
                   type=lambda s: [int(v) for v in s.split(",") if v.strip()])
    p.add_argument("--samples", type=int, default=10)
    p.add_argument("--warmup", type=float, default=0.5, help="warm-up seconds per case")
    p.add_argument("--seed", type=int, default=12345)
    p.add_argument("--dry-run", action="store_true", help="no CUDA: exercise everything else")
    args = p.parse_args()
    if args.samples < 10 and not args.dry_run:
        p.error("--samples: at least 10")
    with open(args.like, encoding="utf-8") as f:
        like = json.load(f)
    started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    elements = 4096 if args.dry_run else copy_elements(like)
    cases = dry_run_cases(args, elements) if args.dry_run else cuda_cases(args, elements)
    finished = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = {
        "schema_version": SCHEMA_VERSION,
        "machine": like["machine"],
        "run": {
            "run_id": f"{started.replace('-', '').replace(':', '')}-vendor{os.getpid():x}",
            "command": sys.argv,
            "started_at": started,
            "finished_at": finished,
            "seed": args.seed,
            "warmup_s": args.warmup,
            "samples": args.samples,
            "complete": True,
        },
        "cases": cases,
    }
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
    os.replace(tmp, args.output)  # atomic: never a half-written result file
    failed = [c["id"] for c in cases if c["status"] != "passed"]
    print(f"wrote {args.output} ({len(cases)} cases, {len(failed)} failed)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
