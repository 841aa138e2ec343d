"""Timing shared by the PyTorch comparison scripts: the median of repeated runs, as Coppice's
Stopwatch.median does (at least 5 runs, then as many as fit in `budget` seconds, up to 2000)."""
import statistics
import time


def median_seconds(fn, budget):
    fn()
    samples = []
    start = time.perf_counter()
    while len(samples) < 5 or (time.perf_counter() - start < budget and len(samples) < 2000):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)
