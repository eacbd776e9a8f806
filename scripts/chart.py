#!/usr/bin/env python3
"""Draws docs/list-latency.png from the CSV that `cargo bench --bench load -- --sizes`
writes (target/bench/list-latency.csv): p50 and p99 list latency against vault
size, over HTTP and in an unlocked SSH shell, on log-log axes.

Needs matplotlib (`pip install matplotlib`)."""

import csv
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

root = Path(__file__).resolve().parent.parent
source = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "target/bench/list-latency.csv"
target = Path(sys.argv[2]) if len(sys.argv) > 2 else root / "docs/list-latency.png"

rows = list(csv.DictReader(source.open()))
items = [int(r["items"]) for r in rows]
fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
for column, label, style in [
    ("http_p50_ms", "HTTP GET /passwords, p50", "o-"),
    ("http_p99_ms", "HTTP GET /passwords, p99", "o--"),
    ("ssh_p50_ms", "SSH shell `pass list`, p50", "s-"),
    ("ssh_p99_ms", "SSH shell `pass list`, p99", "s--"),
]:
    ax.plot(items, [float(r[column]) for r in rows], style, label=label)
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("passwords in the vault")
ax.set_ylabel("latency (ms)")
ax.set_title("Keeper: listing a vault, by size (one user, SQLite)")
ax.grid(True, which="both", alpha=0.3)
ax.legend()
fig.tight_layout()
fig.savefig(target)
print(f"wrote {target}")
