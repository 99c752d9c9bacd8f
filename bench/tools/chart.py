#!/usr/bin/env python3
"""Chart for bench/run.sh: accept rate per cell (Relay vs Postfix), end-to-end throughput and latency, delivery
scale-out. Arguments: accept.txt, "relay_rate postfix_rate relay_p50 postfix_p50 relay_p99 postfix_p99 [relay3_rate
relay3_p50 relay3_p99]" (the replicated Relay's; 0 when not measured),
scale.txt, output PNG. Needs python3-matplotlib (Debian)."""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

accept = [l.split() for l in open(sys.argv[1]) if l.strip()]
e2e = [float(x) for x in sys.argv[2].split()]
scale = [l.split() for l in open(sys.argv[3]) if l.strip()]

fig, ax = plt.subplots(1, 3, figsize=(16, 5), gridspec_kw={"width_ratios": [3, 1.4, 1.2]})
labels = ["%s×%gK" % (r[0], int(r[1]) / 1024) for r in accept]
x = range(len(accept))
# rows may carry the replicated Relay's figures after the load column (bench/run.sh, BENCH_REPLICATED)
replicated = all(len(r) > 11 for r in accept) and any(float(r[11]) > 0 for r in accept)
w = 0.27 if replicated else 0.4
if replicated:
    ax[0].bar([i - w for i in x], [float(r[2]) for r in accept], w, label="Relay, 1 broker (ingress + Kafka)")
    ax[0].bar(list(x), [float(r[11]) for r in accept], w, label="Relay, 3 brokers RF 3, min.insync 2")
    ax[0].bar([i + w for i in x], [float(r[6]) for r in accept], w, label="Postfix (queue, fsync)")
else:
    ax[0].bar([i - w / 2 for i in x], [float(r[2]) for r in accept], w, label="Relay (ingress + Kafka)")
    ax[0].bar([i + w / 2 for i in x], [float(r[6]) for r in accept], w, label="Postfix (queue, fsync)")
for i, r in enumerate(accept):
    rr, pr = float(r[2]), float(r[6])
    if pr > 0:
        ax[0].annotate("%.1f×" % (rr / pr), (i, max(rr, pr)), ha="center", va="bottom", fontsize=8)
ax[0].set_xticks(list(x))
ax[0].set_xticklabels(labels, rotation=30)
ax[0].set_ylabel("accepted msg/s")
ax[0].set_title("1. Accept rate (sessions × size, smtp-source)")
ax[0].legend()

bars = [("Relay", e2e[0], e2e[2], e2e[4], "C0"), ("Postfix", e2e[1], e2e[3], e2e[5], "C2" if replicated else "C1")]
if len(e2e) > 6 and e2e[6] > 0:
    bars.insert(1, ("Relay RF 3", e2e[6], e2e[7], e2e[8], "C1"))
ax[1].bar([b[0] for b in bars], [b[1] for b in bars], color=[b[4] for b in bars])
ax[1].set_ylabel("delivered msg/s")
ax[1].set_title("2. End to end (20 × 10 KiB)")
for i, (_, rate, p50, p99, _) in enumerate(bars):
    ax[1].annotate("p50 %.0f ms\np99 %.0f ms" % (p50, p99), (i, rate), ha="center", va="bottom", fontsize=8)

ax[2].plot([int(r[0]) for r in scale], [float(r[1]) for r in scale], marker="o")
ax[2].set_xticks([1, 2, 3])
ax[2].set_xlabel("delivery workers")
ax[2].set_ylabel("msg/s")
ax[2].set_ylim(bottom=0)
ax[2].set_title("3. Delivery scale-out (slow receiver)")

fig.tight_layout()
fig.savefig(sys.argv[4], dpi=90)
