#!/usr/bin/env python3
"""Draws the benchmark's charts from the CSVs that `cargo bench --bench load`
writes under target/bench/, each chart whose CSV is there:

- list-latency.csv (`-- --sizes`) -> docs/list-latency.png: p50 and p99
  list latency against vault size, over HTTP and in an unlocked SSH shell;
- throughput-by-clients.csv (`-- --curves`) -> docs/throughput-by-clients.png:
  revealed-password reads per second and their p99 against concurrent clients;
- create-latency-by-size.csv (`-- --curves`) -> docs/create-latency-by-size.png:
  a create's p50 and p99 against the items already in the vault.

Needs matplotlib (`pip install matplotlib`)."""

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

root = Path(__file__).resolve().parent.parent
bench = root / "target/bench"
docs = root / "docs"


def rows(name):
    return list(csv.DictReader((bench / name).open()))


def save(fig, ax, title, name):
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(docs / name)
    print(f"wrote {docs / name}")


def list_latency():
    data = rows("list-latency.csv")
    items = [int(r["items"]) for r in data]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for column, label, style in [
        ("http_p50_ms", "HTTP GET /passwords, p50", "o-"),
        ("http_p99_ms", "HTTP GET /passwords, p99", "o--"),
        ("ssh_p50_ms", "SSH shell `pass list`, p50", "s-"),
        ("ssh_p99_ms", "SSH shell `pass list`, p99", "s--"),
    ]:
        ax.plot(items, [float(r[column]) for r in data], style, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("passwords in the vault")
    ax.set_ylabel("latency (ms)")
    save(fig, ax, "Keeper: listing a vault, by size (one user, SQLite)", "list-latency.png")


def throughput_by_clients():
    data = rows("throughput-by-clients.csv")
    clients = [int(r["clients"]) for r in data]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    ax.plot(clients, [float(r["requests_per_s"]) for r in data], "o-", label="reads per second")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("concurrent clients (keep-alive connections)")
    ax.set_ylabel("revealed passwords per second")
    right = ax.twinx()
    right.plot(clients, [float(r["p99_ms"]) for r in data], "s--", color="tab:red", label="p99 latency")
    right.set_ylabel("p99 latency (ms)")
    right.legend(loc="center right")
    save(fig, ax, "Keeper: GET /passwords/{id} by concurrent clients", "throughput-by-clients.png")


def create_latency_by_size():
    data = rows("create-latency-by-size.csv")
    items = [max(int(r["items"]), 1) for r in data]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for column, label, style in [("p50_ms", "p50", "o-"), ("p99_ms", "p99", "o--")]:
        ax.plot(items, [float(r[column]) for r in data], style, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("items already in the vault (0 drawn at 1)")
    ax.set_ylabel("create latency (ms), one client")
    save(fig, ax, "Keeper: POST /passwords by vault size", "create-latency-by-size.png")


for csv_name, draw in [
    ("list-latency.csv", list_latency),
    ("throughput-by-clients.csv", throughput_by_clients),
    ("create-latency-by-size.csv", create_latency_by_size),
]:
    if (bench / csv_name).exists():
        draw()
    else:
        print(f"no {bench / csv_name}: skipped")
