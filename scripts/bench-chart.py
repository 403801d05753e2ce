#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The benchmark's chart (docs/performance.md): scripts/bench.sh output in, an SVG out.

    scripts/bench.sh --runs 3 | tee after.txt
    scripts/bench-chart.py after.txt [--before before.txt] [--note "load average 1.2"] > docs/bench-chart.svg

One panel per backend, one group of bars per phase: alchemy's time over the raw per-row
loop's time (the `ratio` of the phase lines, below 1 is faster than hand-written code), with
the line at 1 and issue 4's targets dashed. With --before, the same phases of an earlier run are
drawn as paler bars beside each, so that a change's effect shows. Only Python's standard library
is used; the numbers come from the input only.
"""
import argparse
import html
import re
import sys

PHASES = ["P1_insert", "P2_get", "P3_filter", "P4_like", "P5_update", "P6_delete"]
BACKENDS = [("sqlite", "SQLite"), ("postgresql", "PostgreSQL"), ("mysql", "MariaDB")]
# Issue 4: SQLite ratio <= 1.10 everywhere; servers <= 1.05 on P2-P6, and P1 at least 5x (PostgreSQL)
# or 3x (MariaDB) faster than the raw per-row loop.
TARGETS = {
    "sqlite": {p: 1.10 for p in PHASES},
    "postgresql": dict({p: 1.05 for p in PHASES[1:]}, P1_insert=1 / 5),
    "mysql": dict({p: 1.05 for p in PHASES[1:]}, P1_insert=1 / 3),
}
LINE = re.compile(r"backend=(\w+) phase=(\w+) .*?alchemy_s=([\d.]+) raw_s=([\d.]+) ratio=([\d.]+)")
SUMMARY = re.compile(r"backend=(\w+) summary n=(\d+) runs=(\d+).*pinned=(\w+)")


def parse(path):
    """{backend: {phase: (alchemy_s, raw_s, ratio)}}, and {backend: "n=..., runs=..."}."""
    phases, notes = {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = LINE.search(line)
            if m:
                b, p, a, r, ratio = m.groups()
                phases.setdefault(b, {})[p] = (float(a), float(r), float(ratio))
                continue
            m = SUMMARY.search(line)
            if m:
                b, n, runs, pinned = m.groups()
                notes[b] = f"N = {int(n):,}, median of {runs} runs, {'pinned' if pinned == 'yes' else 'unpinned'}"
    return phases, notes


def svg(after, notes, before, note):
    backends = [(b, name) for b, name in BACKENDS if b in after]
    if not backends:
        sys.exit("bench-chart: no 'backend=... phase=...' lines in the input")
    panel_w, panel_h, left, top, gap = 330, 300, 48, 70, 24
    width = left + len(backends) * panel_w + (len(backends) - 1) * gap + 16
    height = top + panel_h + 120
    ratios = [v[2] for b, _ in backends for v in after[b].values()]
    ratios += [v[2] for b, _ in backends for v in before.get(b, {}).values()]
    y_max = max(2.0, max(ratios) * 1.1)
    y_max = int(y_max * 2 + 0.999) / 2  # up to the next 0.5

    def y(v):
        return top + panel_h - v / y_max * panel_h

    out = []
    add = out.append
    add(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">')
    add(f'<rect width="{width}" height="{height}" fill="white"/>')
    add(f'<text x="{left}" y="22" font-size="15" font-weight="bold">alchemy time / hand-written raw C API time, '
        f'per phase (lower is faster; 1 = the raw per-row loop)</text>')
    sub = "bars: this run" + (" (dark) beside the earlier run (pale)" if before else "")
    sub += "; dashed: issue 4's target" + (f"; {note}" if note else "")
    add(f'<text x="{left}" y="40" fill="#444">{html.escape(sub)}</text>')
    colors = {"sqlite": "#2b6cb0", "postgresql": "#2f855a", "mysql": "#b7791f"}
    pale = {"sqlite": "#a3c4e8", "postgresql": "#a7d7b8", "mysql": "#eed39c"}
    for i, (b, name) in enumerate(backends):
        x0 = left + i * (panel_w + gap)
        add(f'<text x="{x0 + panel_w / 2}" y="{top - 12}" text-anchor="middle" font-size="13" '
            f'font-weight="bold">{name}</text>')
        # grid and axis
        step = 0.5
        v = 0.0
        while v <= y_max + 1e-9:
            add(f'<line x1="{x0}" y1="{y(v):.1f}" x2="{x0 + panel_w}" y2="{y(v):.1f}" '
                f'stroke="{"#555" if v == 1.0 else "#e2e2e2"}" stroke-width="{1.2 if v == 1.0 else 1}"/>')
            add(f'<text x="{x0 - 4}" y="{y(v) + 4:.1f}" text-anchor="end" fill="#666">{v:.1f}</text>')
            v += step
        group_w = panel_w / len(PHASES)
        for k, p in enumerate(PHASES):
            gx = x0 + k * group_w
            target = TARGETS[b].get(p)
            bars = []
            if before:
                bars.append((before.get(b, {}).get(p), pale[b]))
            bars.append((after[b].get(p), colors[b]))
            bw = (group_w - 14) / len(bars)
            for j, (val, color) in enumerate(bars):
                if not val:
                    continue
                bx = gx + 7 + j * bw
                r = val[2]
                add(f'<rect x="{bx:.1f}" y="{y(r):.1f}" width="{bw - 2:.1f}" height="{y(0) - y(r):.1f}" '
                    f'fill="{color}"><title>{name} {p}: alchemy {val[0]:.3f} s, raw per row {val[1]:.3f} s, '
                    f'ratio {r:.2f}</title></rect>')
                add(f'<text x="{bx + (bw - 2) / 2:.1f}" y="{y(r) - 3:.1f}" text-anchor="middle" '
                    f'font-size="9" fill="#222">{r:.2f}</text>')
            if target is not None:  # over the bars
                add(f'<line x1="{gx + 4:.1f}" y1="{y(target):.1f}" x2="{gx + group_w - 4:.1f}" '
                    f'y2="{y(target):.1f}" stroke="#c53030" stroke-width="1.5" stroke-dasharray="4 3"/>')
            label = p.replace("_", " ")
            add(f'<text x="{gx + group_w / 2:.1f}" y="{top + panel_h + 14}" text-anchor="middle">{label.split()[0]}</text>')
            add(f'<text x="{gx + group_w / 2:.1f}" y="{top + panel_h + 26}" text-anchor="middle" '
                f'fill="#666" font-size="9">{label.split()[1]}</text>')
        if b in notes:
            add(f'<text x="{x0 + panel_w / 2}" y="{top + panel_h + 44}" text-anchor="middle" fill="#444" '
                f'font-size="10">{html.escape(notes[b])}</text>')
    add(f'<text x="{left}" y="{height - 30}" fill="#444">P1 insert, P2 get by key, P3 filter, P4 LIKE, '
        f'P5 update, P6 delete (docs/performance.md). Servers: P1, P5 and P6 batch their statements; '
        f'their P1 target is 1/5 (PostgreSQL) and 1/3 (MariaDB).</text>')
    add(f'<text x="{left}" y="{height - 14}" fill="#444">Made by scripts/bench-chart.py from the output of '
        f'scripts/bench.sh.</text>')
    add("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="output of scripts/bench.sh (or '-' for standard input)")
    ap.add_argument("--before", help="output of an earlier run, drawn beside it")
    ap.add_argument("--note", default="", help="a line of context for the subtitle (e.g. the load average)")
    args = ap.parse_args()
    path = "/dev/stdin" if args.input == "-" else args.input
    after, notes = parse(path)
    before = parse(args.before)[0] if args.before else {}
    sys.stdout.write(svg(after, notes, before, args.note))


if __name__ == "__main__":
    main()
