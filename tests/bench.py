#!/usr/bin/env python3
"""The benchmark behind the README's table (run it with `bash .ci/bench`).

Whole-process wall time (median of several runs) and peak memory (max RSS, from wait4) of:
one cluster; fleets of 100 and 1000 clusters from one multi-document file and from one file per
cluster into an output directory; `diff` of two 1000-cluster renders; a 10 MB input. In the same
run, `kubectl kustomize` over the very objects rendered for 100 and 1000 clusters, and the time
to just write that much YAML (`cat` of the rendered bytes into a file) as the floor.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# EMQX_RENDER_BIN: another binary (to compare two builds); BENCH_NO_KUBECTL=1: skip kubectl.
BIN = os.environ.get("EMQX_RENDER_BIN") or os.path.join(ROOT, "target", "release", "emqx-render")
SPEC = open(os.path.join(ROOT, "examples", "production-v2beta1.yaml")).read()
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
KUBECTL_LIMIT = 300


def cluster(i, image="5.8.6"):
    return SPEC.replace("name: emqx\n", f"name: emqx-{i:04}\n", 1).replace(
        "emqx-enterprise:5.8.6", f"emqx-enterprise:{image}"
    )


def measure(argv, cwd, stdout_path=None, runs=None, limit=None):
    """Median wall seconds and max peak RSS (MiB) over the runs; (None, None) past `limit` s."""
    times, peaks = [], []
    for _ in range(runs or RUNS):
        out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
        start = time.perf_counter()
        p = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL)
        timer = threading.Timer(limit, p.kill) if limit else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(p.pid, 0)
        elapsed = time.perf_counter() - start
        if timer:
            timer.cancel()
        if stdout_path:
            out.close()
        if limit and elapsed >= limit:
            return None, None
        times.append(elapsed)
        peaks.append(usage.ru_maxrss / 1024)
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            sys.exit(f"{argv} exited {code}")
    return statistics.median(times), max(peaks)


def fmt(t):
    return f"{t * 1000:.1f} ms" if t < 10 else f"{t:.1f} s"


def main():
    if not os.path.exists(BIN):
        sys.exit("build first: cargo build --release")
    kubectl = None if os.environ.get("BENCH_NO_KUBECTL") else shutil.which("kubectl")
    work = tempfile.mkdtemp(prefix="emqx-render-bench-")
    rows = []

    def row(name, argv, out=None, note="", runs=None, limit=None):
        t, m = measure(argv, work, out, runs, limit)
        rows.append((name, t, m, note))
        return t

    open(os.path.join(work, "one.yaml"), "w").write(cluster(0))
    # A few milliseconds: more runs, or the median is noise.
    row("1 cluster", [BIN, "render", "-q", "one.yaml"], runs=max(RUNS, 31))

    kust = {}
    for n in (100, 1000):
        fleet = "\n---\n".join(cluster(i) for i in range(n))
        open(os.path.join(work, f"fleet-{n}.yaml"), "w").write(fleet)
        out = os.path.join(work, f"render-{n}.yaml")
        t = row(f"{n} clusters, one file", [BIN, "render", "-q", f"fleet-{n}.yaml"], out)
        size = os.path.getsize(out)
        rows[-1] = rows[-1][:3] + (f"{size / 1e6:.1f} MB of YAML out",)
        # The floor: only writing that many bytes.
        tw, _ = measure(["cat", out], work, os.path.join(work, f"copy-{n}.yaml"))
        rows.append((f"  writing those {size / 1e6:.1f} MB (cat)", tw, 0, f"render is {t / tw:.1f}x this"))

        d = os.path.join(work, f"specs-{n}")
        os.makedirs(d, exist_ok=True)
        for i in range(n):
            open(os.path.join(d, f"emqx-{i:04}.yaml"), "w").write(cluster(i))
        files = sorted(os.listdir(d))
        row(
            f"{n} clusters, {n} files -> --output-dir",
            [BIN, "render", "-q", "--output-dir", f"out-{n}"] + [os.path.join(d, f) for f in files],
        )
        if kubectl:
            # kubectl grows faster than linearly: fewer runs, and a ceiling.
            tk = row(
                f"  kubectl kustomize, same {n}-cluster objects",
                [kubectl, "kustomize", f"out-{n}"],
                runs=3 if n == 100 else 1,
                limit=KUBECTL_LIMIT,
            )
            kust[n] = (tk, t)

    fleet_b = "\n---\n".join(cluster(i, "5.8.7") for i in range(1000))
    open(os.path.join(work, "fleet-1000-b.yaml"), "w").write(fleet_b)
    with open(os.path.join(work, "render-1000-b.yaml"), "wb") as f:
        subprocess.run([BIN, "render", "-q", "fleet-1000-b.yaml"], cwd=work, stdout=f, check=True)
    row("diff of two 1000-cluster renders", [BIN, "diff", "--color", "never", "render-1000.yaml", "render-1000-b.yaml"])

    big = "".join("# a long comment line standing in for a generated file's padding ......\n" for _ in range(140_000))
    open(os.path.join(work, "ten-mb.yaml"), "w").write(big + SPEC)
    row(f"{(len(big) + len(SPEC)) / 1e6:.0f} MB input file", [BIN, "render", "-q", "ten-mb.yaml"])

    print(f"emqx-render benchmark: median of {RUNS} runs, whole process, {os.cpu_count()} cores")
    print()
    print("| case | time | peak memory | |")
    print("|---|---:|---:|---|")
    for name, t, m, note in rows:
        mem = f"{m:.1f} MiB" if m else ""
        shown = fmt(t) if t is not None else f"> {KUBECTL_LIMIT} s (stopped)"
        print(f"| {name} | {shown} | {mem} | {note} |")
    for n, (tk, t) in sorted(kust.items()):
        if tk is None:
            print(f"\nAt {n} clusters kubectl kustomize did not finish within {KUBECTL_LIMIT} s; emqx-render took {fmt(t)}.")
        else:
            print(f"\nAt {n} clusters emqx-render (one file) is {tk / t:.0f}x faster than kubectl kustomize on the same objects.")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
