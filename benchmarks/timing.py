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


def alternate_rounds(rounds, coppice, reference):
    """Runs `coppice()` and `reference()` (each: case name -> milliseconds) in turn `rounds` times, so
    that a slow spell of a shared VM falls on both sides, and returns case -> (Coppice's median ms,
    the reference's median ms, each round's ratio) for the cases both timed."""
    times = {}
    for _ in range(rounds):
        ours, theirs = coppice(), reference()
        for case, ms in ours.items():
            if case in theirs:
                times.setdefault(case, []).append((ms, theirs[case]))
    return {case: (statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs), [a / b for a, b in pairs])
            for case, pairs in times.items()}
