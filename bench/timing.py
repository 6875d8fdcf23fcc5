"""Device timing for the bench: per-call CUDA events, and replay of a captured CUDA graph.

Each timed function is `fn(i)`, launching on input set `i % nbuf`: rotating among sets whose total
exceeds the L2 keeps large sizes from being timed out of the cache (METHOD.md).
"""
import statistics

EVENT_BUDGET_MS = 60.0   # device time spent on each event measurement, roughly
GRAPH_TRIAL_MS = 15.0    # device time per graph trial, roughly
GRAPH_TRIALS = 5
MIN_REPS, MAX_REPS = 20, 400


def _sync():
    import torch

    torch.cuda.synchronize()


def estimate_us(fn, nbuf, calls=10):
    """Mean microseconds per call over a few back-to-back calls (after one warm-up call)."""
    import torch

    fn(0)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for i in range(calls):
        fn(i % nbuf)
    end.record()
    _sync()
    return start.elapsed_time(end) * 1000.0 / calls


def event_times_us(fn, nbuf, est_us):
    """Per-call times from an event pair around each call (launch overhead included, as a caller
    outside a graph sees it); list of microseconds."""
    import torch

    reps = max(MIN_REPS, min(MAX_REPS, int(EVENT_BUDGET_MS * 1000.0 / max(est_us, 1.0))))
    for i in range(min(reps, 10)):
        fn(i % nbuf)
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    for i in range(reps):
        starts[i].record()
        fn(i % nbuf)
        ends[i].record()
    _sync()
    return [s.elapsed_time(e) * 1000.0 for s, e in zip(starts, ends)]


def graph_times_us(fn, nbuf, est_us):
    """Per-call time of a CUDA graph holding back-to-back calls over the rotating sets, replayed;
    one value (microseconds) per trial."""
    import torch

    calls = max(nbuf, 16)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up off the default stream, as torch asks before capture
        for i in range(3):
            fn(i % nbuf)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for i in range(calls):
            fn(i % nbuf)
    graph.replay()
    _sync()
    replays = max(2, int(GRAPH_TRIAL_MS * 1000.0 / max(est_us * calls, 1.0)))
    trials = []
    for _ in range(GRAPH_TRIALS):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(replays):
            graph.replay()
        end.record()
        _sync()
        trials.append(start.elapsed_time(end) * 1000.0 / (replays * calls))
    del graph
    return trials


def summarize(times_us):
    return {"median_us": statistics.median(times_us), "min_us": min(times_us), "max_us": max(times_us),
            "n": len(times_us)}
