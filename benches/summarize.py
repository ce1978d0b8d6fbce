#!/usr/bin/env python3
"""Print the summary tables of benches/compare.sh from its results dir.

Reads RESULTS/*.cmp (one JSON object per comparison, written by
compare.sh), the hyperfine --export-json files they name, and
RESULTS/rss.tsv. Prints Markdown tables, so the output can be pasted into
docs/benchmarks.md as is.
"""

import glob
import json
import os
import statistics
import sys


def median_of(path):
    """Median wall time (s) of the single command in a hyperfine export,
    and the number of runs."""
    with open(path) as f:
        r = json.load(f)["results"][0]
    return r["median"], len(r["times"])


def fmt_t(t):
    if t < 1:
        return f"{t * 1000:.0f} ms" if t >= 0.01 else f"{t * 1000:.1f} ms"
    return f"{t:.2f} s"


def main():
    res = sys.argv[1]
    rows = []
    for path in glob.glob(os.path.join(res, "*.cmp")):
        with open(path) as f:
            rows.append(json.load(f))
    rows.sort(key=lambda c: c["order"])
    if rows:
        print("| scenario | rvc median | peer | peer median | peer/rvc | goal | met |")
        print("|---|---|---|---|---|---|---|")
    for c in rows:
        try:
            # Resolve next to the .cmp file, so a copied results dir still works.
            r, rn = median_of(os.path.join(res, os.path.basename(c["rvc_json"])))
            p, pn = median_of(os.path.join(res, os.path.basename(c["peer_json"])))
        except (OSError, KeyError, ValueError) as e:
            print(f"| {c['scenario']} | (missing: {e}) | | | | | |")
            continue
        goal = c.get("goal") or ""
        met = ""
        if goal:
            # `goal` is a Python expression over r (rvc median, s) and p (peer median, s).
            met = "yes" if eval(goal, {}, {"r": r, "p": p}) else "**NO**"
        print(
            f"| {c['scenario']} | {fmt_t(r)} (n={rn}) | {c['peer']} | {fmt_t(p)} (n={pn}) "
            f"| {p / r:.2f}x | {c.get('goal_text', '')} | {met} |"
        )

    rss = os.path.join(res, "rss.tsv")
    if os.path.exists(rss):
        by_label = {}
        order = []
        with open(rss) as f:
            for line in f:
                label, kb = line.rstrip("\n").split("\t")
                if label not in by_label:
                    order.append(label)
                    by_label[label] = []
                by_label[label].append(int(kb))
        print()
        print("| command | peak RSS (median) | runs |")
        print("|---|---|---|")
        for label in order:
            kbs = by_label[label]
            print(f"| {label} | {statistics.median(kbs) / 1024:.1f} MiB | {len(kbs)} |")


if __name__ == "__main__":
    main()
