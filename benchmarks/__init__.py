"""Side-by-side benchmarks of sb3-notes against its peers (SB3, sb3-contrib, plain loops, DP optima).

Entry point: ``python -m benchmarks list|run|report|speed|instructions`` (see ``benchmarks/__main__.py``).
Modules, each importing only those before it: ``spec`` (the vocabulary: a run's settings, targets, suites) →
``suites`` (what is benchmarked) and ``evaluation`` (curves off the training clock) → ``tabular`` (exact DP scores)
→ ``harness`` (one run → one JSON) → ``stats`` (rliable's aggregates) → ``report`` (markdown and PNGs); ``speed``
(alternating-round throughput), ``instructions`` (callgrind's instruction counts, before/after) and ``plain_q``
(the tabular peer) stand alone.
"""
