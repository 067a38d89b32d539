"""Speed and memory benchmarks: each prints a table and writes JSON under results/benchmarks/."""
