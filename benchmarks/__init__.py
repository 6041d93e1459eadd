"""Side-by-side benchmarks of sb3-notes against its peers (SB3, sb3-contrib, plain loops, DP optima).

Entry point: ``python -m benchmarks.run --suite quick|full --out results/``.
"""
