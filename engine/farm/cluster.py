"""Segmented renders: serially in this process, or in parallel on a Dask cluster.

`render --workers N` starts a local Dask cluster of N processes on 127.0.0.1; `--scheduler
tcp://HOST:PORT` uses a running one (`dask scheduler`, `dask worker ...`). Workers write GOP
files into a hidden folder beside the output, so remote workers need that folder on a shared
filesystem. A task that fails is retried (`RETRIES`); a worker that dies has its task moved
to another worker by Dask. Progress counts frames of finished segments over the whole job.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from engine.farm.checkpoints import (
    CheckpointStats,
    Job,
    Segment,
    checkpoint,
    gop_starts,
    loads,
    new_show,
    plan,
)
from engine.farm.segments import cleanup, join, render_segment, segments_folder

log = logging.getLogger("symphony")
RETRIES = 2
SEGMENTS_PER_WORKER = 3  # smaller tasks share out better and move progress more often


@dataclass
class FarmStats:
    frames: int
    seconds: float
    path: Path
    workers: int
    segments: int
    checkpoints: CheckpointStats
    startup: float = 0.0  # seconds until the cluster had its workers


def render_serial(job: Job, out: Path, progress=None) -> FarmStats:
    """One process, one encoder per GOP: the reference that a cluster render equals."""
    start = time.perf_counter()
    folder = segments_folder(out)
    segment = Segment(job.start, job.frames, begin=0)
    stats = CheckpointStats()
    if job.start > 0:  # a cut: simulate up to it (and its trails pre-roll), draw from there
        stats = checkpoint(job, [segment])
        show = loads(segment.checkpoint)
    else:
        show, _src = new_show(job)
    try:
        tick = (lambda i: progress.update(i + 1 - job.start)) if progress is not None else None
        parts = render_segment(job, segment, str(out), str(folder), show=show, on_frame=tick)
        join([Path(p) for p in parts], out, job.fps, gop_starts(job), job.start)
    finally:
        cleanup(folder)
    return FarmStats(job.frames - job.start, time.perf_counter() - start, out, 1, 1, stats)


def render_on_cluster(job: Job, out: Path, workers: int | None = None, scheduler: str | None = None,
                      progress=None) -> FarmStats:
    """Checkpoint, render the segments on Dask workers, join. `workers` starts a local cluster."""
    from dask.distributed import Client, LocalCluster, as_completed

    for name in ("distributed", "tornado", "bokeh"):
        logging.getLogger(name).setLevel(logging.ERROR)
    start = time.perf_counter()
    cluster = None
    if scheduler is None:
        threads = str(max(1, (os.cpu_count() or 1) // max(1, workers or 1)))
        cluster = LocalCluster(n_workers=workers or 1, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None,
                               env={"NUMBA_NUM_THREADS": threads, "LP_NUM_THREADS": threads})
    client = Client(cluster if cluster is not None else scheduler, timeout="30s")
    folder = segments_folder(out)
    try:
        n_workers = max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))
        startup = time.perf_counter() - start
        segments = plan(job, n_workers * SEGMENTS_PER_WORKER)
        stats = checkpoint(job, segments)
        log.info("simulated %d frames and kept %d checkpoints (%.1f MB each) in %.1f s",
                 job.frames, stats.count, sum(stats.bytes_each) / max(1, stats.count) / 1e6,
                 stats.seconds)
        futures = {client.submit(render_segment, job, seg, str(out), str(folder), retries=RETRIES,
                                 pure=False, key=f"symphony-segment-{seg.first}-{os.getpid()}"): seg
                   for seg in segments}
        done = 0
        parts: list[str] = []
        for fut in as_completed(futures):
            parts += fut.result()
            seg = futures[fut]
            done += seg.end - seg.first
            if progress is not None:
                progress.update(done)
        paths = sorted(Path(p) for p in parts)
        join(paths, out, job.fps, gop_starts(job), job.start)
    finally:
        cleanup(folder)
        client.close()
        if cluster is not None:
            cluster.close()
    return FarmStats(job.frames - job.start, time.perf_counter() - start, out, n_workers, len(segments),
                     stats, startup)
