"""Real `modeldesk worker` processes against one database, for tests and benchmarks.

Limits that must hold "across all workers" can only be shown with several
processes, and a worker killed mid-job only with a real kill. Each worker's
output goes to its own log file, so a failing test can show what it did.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

# Short enough for tests and benchmarks to see refreshes, heartbeats and
# backoffs within seconds; each can be overridden per fleet.
FAST_SETTINGS: Mapping[str, str] = {
    "MODELDESK_LIMITS_REFRESH_SECONDS": "0.3",
    "MODELDESK_JOB_HEARTBEAT_SECONDS": "2",
    "MODELDESK_SHUTDOWN_GRACE_SECONDS": "10",
    "MODELDESK_RATE_LIMIT_BACKOFF": "0.5,0.5",
    "MODELDESK_LOG_LEVEL": "INFO",
}


class WorkerFleet:
    """Starts workers with `start()`; `close()` (or leaving `with`) stops every one left."""

    def __init__(
        self, database_url: str, log_dir: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self._env = {
            **os.environ,
            **FAST_SETTINGS,
            **(env or {}),
            "MODELDESK_DATABASE_URL": database_url,
        }
        self._log_dir = log_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, count: int = 1, args: Sequence[str] = ()) -> list[subprocess.Popen[bytes]]:
        """Start `count` workers, each with `args` after `modeldesk worker`."""
        return [self._launch(["worker", *args]) for _ in range(count)]

    def start_serve(self, port: int) -> subprocess.Popen[bytes]:
        """`modeldesk serve` on `port`: the API and UI, with their in-process worker."""
        return self._launch(["serve", "--port", str(port)])

    def _launch(self, command: Sequence[str]) -> subprocess.Popen[bytes]:
        log = self._log_dir / f"worker-{len(self.processes)}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "modeldesk.cli", *command],
                env=self._env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def wait_until_started(self, timeout: float = 30.0) -> None:
        """Block until every worker has logged that it serves the queue."""
        deadline = time.monotonic() + timeout
        for index, process in enumerate(self.processes):
            log = self._log_dir / f"worker-{index}.log"
            while b" started" not in log.read_bytes():
                if process.poll() is not None:
                    raise RuntimeError(f"worker {index} exited early:\n{self.log(index)}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"worker {index} did not start:\n{self.log(index)}")
                time.sleep(0.05)

    def log(self, index: int) -> str:
        return (self._log_dir / f"worker-{index}.log").read_text(errors="replace")

    def stop(self, process: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
        """SIGTERM, then wait for the exit code (SIGKILL if it does not come)."""
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        process.kill()
        process.wait()

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> WorkerFleet:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
