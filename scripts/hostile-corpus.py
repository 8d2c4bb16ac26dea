#!/usr/bin/env python3
"""Regenerates tests/hostile/ (malformed result files) and tests/fixtures/validate/clean.json.

Usage: fleetbench run --fake "corpus gpu:50" --kernels matmul_naive --sizes 16,24 --samples 5 \
           --seed 1 --quiet -o base.json
       scripts/hostile-corpus.py base.json

Every file gets a line in tests/hostile/EXPECTED.tsv: name, expected exit code of
`fleetbench validate`, and a phrase its one-line message must contain. Files added by hand
(fuzzer finds) keep their lines; only the generated ones are rewritten.
"""
import copy
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "hostile")


def sanitized(base):
    d = copy.deepcopy(base)
    m = d["machine"]
    m.update(hostname="corpus-host", os="Linux", cpu_model="corpus cpu", cpu_cores=2,
             memory_bytes=8 << 30, git_revision=None, created_at="2026-01-01T00:00:00Z", env={})
    d["run"].update(run_id="corpus", command=["fleetbench", "run", "--fake", "corpus gpu:50"],
                    started_at="2026-01-01T00:00:00Z", finished_at="2026-01-01T00:00:01Z")
    return d


def dump(d):
    return json.dumps(d, indent=1).encode()


def edited_dict(clean, fn):
    d = copy.deepcopy(clean)
    fn(d)
    return d


def edited(clean, fn):
    return dump(edited_dict(clean, fn))


def t(d, i=0):
    return d["cases"][i]["timing"]


def corpus(clean):
    text = dump(clean)
    deep = b'{"schema_version":2,"machine":' + b"[" * 5000 + b"]" * 5000 + b"}"
    files = {
        # name: (bytes, exit code, phrase)
        "empty.json": (b"", 2, "empty file"),
        "whitespace-only.json": (b"  \n\t\n", 2, "empty file"),
        "truncated-half.json": (text[: len(text) // 2], 2, "invalid JSON"),
        "truncated-last-brace.json": (text.rstrip()[:-1], 2, "invalid JSON"),
        "not-json.json": (b"hello, world\n", 2, "invalid JSON"),
        "nul-bytes.json": (b"\0\0\0\0", 2, "invalid JSON"),
        "top-level-array.json": (b"[1, 2, 3]", 2, "not an object"),
        "top-level-string.json": (b'"fleetbench"', 2, "not an object"),
        "no-schema-version.json": (b'{"cases": []}', 2, "no schema_version"),
        "schema-version-3.json": (edited(clean, lambda d: d.update(schema_version=3)), 2,
                                  "schema_version 3 is not supported"),
        "schema-version-string.json": (edited(clean, lambda d: d.update(schema_version="1")), 2,
                                       "is not supported"),
        "schema-version-negative.json": (edited(clean, lambda d: d.update(schema_version=-1)),
                                         2, "is not supported"),
        "invalid-utf8.json": (text[:40] + b"\xff\xfe\xc3\x28" + text[40:], 2, "not UTF-8"),
        "utf8-bom.json": (b"\xef\xbb\xbf" + text, 2, "invalid JSON"),
        "deep-nesting.json": (deep, 2, "recursion limit"),
        "unknown-top-field.json": (edited(clean, lambda d: d.update(bogus=1)), 2,
                                   "unknown field `bogus`"),
        "unknown-case-field.json": (edited(clean, lambda d: d["cases"][0].update(speed=9e9)), 2,
                                    "unknown field `speed`"),
        "missing-machine.json": (edited(clean, lambda d: d.pop("machine")), 2,
                                 "missing field `machine`"),
        "missing-case-id.json": (edited(clean, lambda d: d["cases"][0].pop("id")), 2,
                                 "missing field `id`"),
        "null-cases.json": (edited(clean, lambda d: d.update(cases=None)), 2, "invalid type"),
        "samples-wrong-type.json": (edited(clean, lambda d: t(d).update(host_s="fast")), 2,
                                    "invalid type"),
        "shape-as-string.json": (edited(clean, lambda d: d["cases"][0]["workload"].update(m="16")),
                                 2, "invalid type"),
        "shape-negative.json": (edited(clean, lambda d: d["cases"][0]["workload"].update(m=-16)),
                                2, "invalid value"),
        "shape-fraction.json": (edited(clean, lambda d: d["cases"][0]["workload"].update(m=16.5)),
                                2, "invalid type"),
        "number-out-of-range.json": (text.replace(b'"m": 16', b'"m": 1e400', 1), 2,
                                     "number out of range"),
        "nan-literal.json": (text.replace(b'"host_s": [\n', b'"host_s": [\n NaN,', 1), 2,
                             "invalid JSON"),
        "infinity-literal.json": (text.replace(b'"host_s": [\n', b'"host_s": [\n Infinity,', 1), 2,
                                  "invalid JSON"),
        "unknown-status.json": (edited(clean, lambda d: d["cases"][0].update(status="great")), 2,
                                "unknown variant `great`"),
        "unknown-op.json": (edited(clean, lambda d: d["cases"][0]["workload"].update(op="conv")), 2,
                            "unknown variant `conv`"),
        "unknown-unit.json": (edited(clean, lambda d: t(d).update(unit="TFLOP/s")), 2,
                              "unknown variant"),
        # Parse, but are inconsistent: exit 1.
        "huge-sample-array.json": (json.dumps(edited_dict(clean, lambda d: t(d).update(
            host_s=[1e-3] * 20001)), separators=(",", ":")).encode(), 1, "more than 10000"),
        "negative-sample.json": (edited(clean, lambda d: t(d)["host_s"].__setitem__(0, -1e-3)), 1,
                                 "host_s[0] is -0.001"),
        "zero-sample.json": (edited(clean, lambda d: t(d, 1)["gpu_s"].__setitem__(2, 0.0)), 1,
                             "gpu_s[2] is 0"),
        "huge-sample.json": (edited(clean, lambda d: t(d)["gpu_s"].__setitem__(1, 1.7e308)), 1,
                             "stored throughput"),
        "edited-median.json": (edited(clean, lambda d: t(d)["throughput"]["median"].update(
            value=1e6)), 1, "throughput.median.value"),
        "edited-sample.json": (edited(clean, lambda d: t(d)["gpu_s"].__setitem__(0, 1e-9)), 1,
                               "but the samples and shape give"),
        "duplicate-case.json": (edited(clean, lambda d: d["cases"].append(d["cases"][0])), 1,
                                "appears 2 times"),
        "absurd-shape.json": (edited(clean, absurd_shape), 1, "absurd shape"),
        "shape-edited.json": (edited(clean, lambda d: d["cases"][0]["workload"].update(k=17)), 1,
                              "id does not match"),
        "wrong-unit.json": (edited(clean, lambda d: t(d).update(unit="GB/s")), 1,
                            "does not fit a matmul"),
        "passed-unverified.json": (edited(clean, lambda d: d["cases"][0].update(verification=None)),
                                   1, "never verified"),
        "passed-wrong-output.json": (edited(clean, lambda d: d["cases"][0]["verification"].update(
            rel_error=0.3)), 1, "above the tolerance"),
        "failed-without-reason.json": (edited(clean, lambda d: d["cases"][0].update(
            status="failed")), 1, "Failed without a reason"),
        "skipped-with-timing.json": (edited(clean, lambda d: d["cases"][0].update(
            status="skipped", reason="too big")), 1, "carries timings"),
        "complete-without-finish.json": (edited(clean, lambda d: d["run"].update(
            finished_at=None)), 1, "no finished_at"),
        "one-sample-run.json": (edited(clean, lambda d: d["run"].update(samples=1)), 1,
                                "at least 2"),
        "injected-faults.json": (edited(clean, lambda d: d["machine"]["env"].update(
            FLEETBENCH_INJECT_FAULTS="oom@1")), 1, "injected faults"),
        "beyond-published-peak.json": (edited(clean, beyond_peak), 1, "exceeds the published peak"),
        "newline-in-id.json": (edited(clean, lambda d: d["cases"][0].update(id="x\ny")), 1,
                               "id does not match"),
    }
    return files


def beyond_peak(d):
    """An "H100" 2^20 times faster than the fake run: every time scaled by an exact power of two,
    so the statistics stay consistent and only the datasheet check can object."""
    a = d["machine"]["adapter"]
    a.update(name="NVIDIA H100 80GB HBM3", vendor_id=0x10DE)
    c = 2.0 ** -20
    for case in d["cases"]:
        t = case["timing"]
        t["host_s"] = [x * c for x in t["host_s"]]
        t["gpu_s"] = [x * c for x in t["gpu_s"]]
        for key in ("host", "gpu"):
            scale_summary(t[key], c)
        scale_summary(t["throughput"], 1 / c)


def scale_summary(s, c):
    """Multiplies every figure of a summary, its median interval's ends too, by `c`."""
    s.update({k: v * c for k, v in s.items() if k not in ("n", "median")})
    s["median"].update({k: v * c for k, v in s["median"].items() if k != "level"})


def absurd_shape(d):
    c = d["cases"][0]
    c["workload"].update(m=18446744073709551615)
    c["id"] = "matmul_naive/matmul/f32/18446744073709551615x16x16"


GOOD_FLEET = """version = 1
reference = "h100-sxm"
metric = "bf16"

[[fleet]]
name = "cluster"

[[fleet.entry]]
device = "a100-sxm4-80gb"
count = 4
acquired = "2023-Q1"
"""


def fleet_corpus():
    """Malformed fleet files for `fleetbench project`: name -> (text bytes, phrase)."""
    g = GOOD_FLEET
    entry = "device = \"a100-sxm4-80gb\"\ncount = 4\n"
    with_count = lambda c: g.replace("count = 4", f"count = {c}").encode()
    return {
        "empty.toml": (b"", "missing field"),
        "absurd-count.toml": (with_count("1e15"), "absurdly large"),
        "negative-count.toml": (with_count("-4"), "count -4 is negative"),
        "fractional-count.toml": (with_count("2.5"), "not a whole number"),
        "nan-count.toml": (with_count("nan"), "count NaN"),
        "infinite-count.toml": (with_count("inf"), "count inf"),
        "count-as-string.toml": (with_count('"four"'), "invalid type"),
        "version-2.toml": (g.replace("version = 1", "version = 2").encode(), "version 2"),
        "unknown-field.toml": (g.replace('name = "cluster"', 'name = "cluster"\nspeed = 9').encode(),
                               "unknown field"),
        "unknown-device.toml": (g.replace("a100-sxm4-80gb", "a1000").encode(), "a1000"),
        "no-fleets.toml": (b"version = 1\n", "missing field `fleet`"),
        "truncated.toml": (g.encode()[: len(g) // 2], "line 6"),
        "invalid-utf8.toml": (g.encode()[:10] + b"\xff\xfe" + g.encode()[10:], "UTF-8"),
        "binary-garbage.toml": (bytes(range(256)), "UTF-8"),
        "bad-date.toml": (g.replace("2023-Q1", "2023-Q7").encode(), "2023-Q7"),
        "deep-nesting.toml": (g.encode() + b"x = " + b"[" * 3000 + b"]" * 3000 + b"\n", "recursion"),
        "huge-array.toml": (g.replace(entry, entry + "label = \"x\"\n").encode() +
                            b"[[fleet.claim]]\nkind = \"ratio\"\ndevice = \"h100-sxm\"\n"
                            b"of = \"a100-sxm4-80gb\"\nequals = 4\nmixed = [" +
                            b"\"fp8/bogus\"," * 20000 + b"]\n", "bogus"),
    }


def write_fleet_corpus():
    out = os.path.join(ROOT, "tests", "hostile-fleet")
    os.makedirs(out, exist_ok=True)
    lines = ["# file\tphrase the one-line message of `fleetbench project FILE` contains (exit 2)"]
    for name, (data, phrase) in sorted(fleet_corpus().items()):
        open(os.path.join(out, name), "wb").write(data)
        lines.append(f"{name}\t{phrase}")
    os.makedirs(os.path.join(out, "a-directory.toml"), exist_ok=True)
    open(os.path.join(out, "a-directory.toml", ".keep"), "w").write("")
    lines.append("a-directory.toml\tis a directory")
    open(os.path.join(out, "EXPECTED.tsv"), "w").write("\n".join(lines) + "\n")


def main():
    base = json.load(open(sys.argv[1]))
    clean = sanitized(base)
    fixtures = os.path.join(ROOT, "tests", "fixtures", "validate")
    os.makedirs(fixtures, exist_ok=True)
    open(os.path.join(fixtures, "clean.json"), "wb").write(dump(clean))
    os.makedirs(OUT, exist_ok=True)
    files = corpus(clean)
    manifest = os.path.join(OUT, "EXPECTED.tsv")
    kept = []
    if os.path.exists(manifest):
        kept = [l for l in open(manifest).read().splitlines()
                if l and not l.startswith("#") and l.split("\t")[0] not in files
                and l.split("\t")[0] != "a-directory.json"]
    lines = ["# file\texit code of `fleetbench validate`\tphrase its one-line message contains"]
    for name, (data, code, phrase) in sorted(files.items()):
        open(os.path.join(OUT, name), "wb").write(data)
        lines.append(f"{name}\t{code}\t{phrase}")
    os.makedirs(os.path.join(OUT, "a-directory.json"), exist_ok=True)
    open(os.path.join(OUT, "a-directory.json", ".keep"), "w").write("")
    lines.append("a-directory.json\t2\tis a directory")
    open(manifest, "w").write("\n".join(lines + kept) + "\n")
    print(f"{len(files) + 1} generated files, {len(kept)} kept from before")
    write_fleet_corpus()


if __name__ == "__main__":
    main()
