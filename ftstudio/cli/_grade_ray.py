"""`ftstudio grade ... --engine ray [--ray-address ADDR]`: the same grading, on a Ray cluster.

Ray Data reads DATA (ftstudio's reader in a read task: the path must be readable where that task runs),
actors holding one warm grading session each grade batches of rows (`ftstudio.grading.ray.GradeBatch`),
and this process writes OUT in row order and prints the summary computed from the records, calibration
included (group keys are 64-bit digests, equal across actors). Without ADDR: RAY_ADDRESS, a Ray already
started in this process, or a new local one.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import time
from typing import Any

from ._common import EXIT_INVALID, CliError

BATCH_ROWS = 4096  # rows per actor call: big enough to amortise the call, small enough to spread a file


def grade_on_ray(grader: Any, args, options, writer) -> tuple[Any, list, list]:
    """(GradeResults, group keys, preflight issues); InvalidGrader, DatasetError and OSError as the local run."""
    if importlib.util.find_spec("ray") is None:
        raise CliError("ftstudio: --engine ray needs Ray: pip install -e '.[ray]' (or pip install 'ray[data]')",
                       EXIT_INVALID)
    import ray

    from ftstudio.grading import preflight, to_grader
    from ftstudio.grading.ray import GradeBatch, Records, read_rows, records_of, rows_of
    from ftstudio.probes import group_keys

    model = to_grader(grader)  # InvalidGrader here, before any cluster work
    started = _connect(ray, args.ray_address)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = ctx.print_on_execution_start = False
        # Its lines (a failed task's traceback too) would bury ours; what a task raised is re-raised below.
        logging.getLogger("ray.data").setLevel(logging.CRITICAL)
        ds = read_rows(args.data, block_rows=min(args.chunk_size, 50_000))
        start = time.perf_counter()
        try:
            # The preflight looks at the rows the local run's first chunk holds.
            first = ds.limit(args.chunk_size).take_batch(args.chunk_size, batch_format="pyarrow")
            checks = preflight(grader, rows_of(first), args.sample_field)
            cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
            keyer = functools.partial(group_keys, group_field=args.group_field, sample_field=args.sample_field,
                                      stable=True)
            graded = ds.map_batches(GradeBatch, fn_constructor_args=(grader,),
                                    fn_constructor_kwargs={"sample_field": args.sample_field, "options": options,
                                                           "group_key": keyer},
                                    batch_size=BATCH_ROWS, batch_format="pyarrow",
                                    compute=ray.data.ActorPoolStrategy(min_size=1, max_size=cpus))
            gathered = Records()
            for record, usage, key in records_of(graded.iter_batches(batch_size=None, batch_format="pyarrow")):
                writer.write_records((record,))
                gathered.add(record, usage, key)
        except Exception as exc:  # Ray wraps what a task raised; the local run's handlers want the original
            raise _cause(exc) from None
        whole = gathered.results(model.name or model.type, model.type, time.perf_counter() - start)
        return whole, gathered.keys, checks
    finally:
        if started:
            ray.shutdown()


def _connect(ray, address: str | None) -> bool:
    """Connect (True when this call started Ray and so must stop it)."""
    if ray.is_initialized():
        return False
    ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False,
             configure_logging=True)
    return True


def _cause(exc: BaseException) -> BaseException:
    """What reading DATA raised (Ray wraps it), else `exc` itself."""
    from ftstudio.grading.ray import ReadFailed

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ReadFailed):
            return seen.error
        cause = getattr(seen, "cause", None)
        seen = cause if isinstance(cause, BaseException) else seen.__cause__
    return exc
