"""gunicorn hook for the benchmarks: a worker marks itself ready once it has loaded CKAN.

``status_show`` answers as soon as the *first* worker is up, while the others
are still importing CKAN, which a measurement started then would pay for.
:meth:`bench.benchstack.Slot.start` waits for every worker's mark instead.
"""

import os
from pathlib import Path


def post_worker_init(worker) -> None:
    folder = os.environ.get("VIERSTAEDTE_BENCH_READY_DIR")
    if folder:
        Path(folder, f"worker-{worker.pid}").touch()
