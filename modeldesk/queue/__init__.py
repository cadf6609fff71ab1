"""The probe queue: pgqueuer wiring, one entrypoint per provider, fleet-wide limits.

- `worker`: the worker process (`run_worker`), its shutdown and reconnects;
- `session`: one connection session of a worker, until stopped or lost;
- `limits`: each provider's entrypoint kept in step with the catalogue;
- `admission`, `holds`: the shared per-provider gates kept in PostgreSQL
  (calls per minute, holds after a rate limit);
- `jobs`: the handlers, which turn every "not now" into a delayed re-queue;
- `manager`: the only module that knows pgqueuer's internals;
- `gate_pool`, `signals`: the worker's own connections, and SIGTERM/SIGINT;
- `last_errors`: each provider's most recent failed call, for the live view;
- `metrics_server`: `modeldesk worker --metrics-port`, this worker's counters.

Enqueueing lives in `modeldesk.db.job_queue`, so services can queue jobs
inside their own transactions.
"""
