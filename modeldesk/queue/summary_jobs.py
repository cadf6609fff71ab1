"""Summary and analysis jobs, in the `probe.<name>` queue of the provider they call.

A judge's (or analyst's) call is one of its provider's calls like any probe's:
queued on the provider's entrypoint, it shares that entrypoint's concurrency
limit (`max_parallel_requests`) with the provider's probes and passes the same
admission (requests per minute, rate-limit holds). `ProviderJobs` is that
entrypoint's handler and sends each job to its handler by its payload's key.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Awaitable

from pgqueuer.domain.models import Job

from modeldesk.db.job_queue import decode_payload
from modeldesk.queue.jobs import JobServices, ProbeJobHandler, ProviderCallHandler
from modeldesk.queue.limits import ProviderLimits
from modeldesk.runs import (
    ANALYSIS_PAYLOAD_KEY,
    SUMMARY_PAYLOAD_KEY,
    StepOutcome,
    execute_analysis,
    execute_summary,
    fail_analysis,
    handle_summary_internal_error,
)


class _ProviderBound(ProviderCallHandler):
    """A job of the provider whose queue it waits in: admitted on that provider."""

    def __init__(self, services: JobServices, provider: ProviderLimits) -> None:
        super().__init__(services)
        self._provider_id = provider.provider_id
        self._provider_name = provider.name

    @abstractmethod
    def _step(self, item_id: int) -> Awaitable[StepOutcome]: ...

    async def _admitted_step(self, item_id: int, label: str) -> StepOutcome:
        await self._admit(self._provider_id, self._provider_name, label)
        return await self._services.in_flight.run(self._step(item_id))


class SummaryJobHandler(_ProviderBound):
    """`{"summary_id": N}`: judge transcript N with the summarization model."""

    payload_key = SUMMARY_PAYLOAD_KEY

    def _label(self, item_id: int, job: Job) -> str:
        return f"summary of transcript {item_id} ({self._provider_name}, job {job.id})"

    def _log_fields(self, item_id: int) -> dict[str, object]:
        return {"provider": self._provider_name}  # the label names the transcript

    def _step(self, item_id: int) -> Awaitable[StepOutcome]:
        services = self._services
        return execute_summary(services.db, services.settings, services.client, item_id)

    async def _internal_error(self, item_id: int, error: Exception) -> StepOutcome:
        return await handle_summary_internal_error(self._services.db, item_id, error)


class AnalysisJobHandler(_ProviderBound):
    """`{"analysis_run_id": N}`: run N's figures and the analysis model's report."""

    payload_key = ANALYSIS_PAYLOAD_KEY

    def _label(self, item_id: int, job: Job) -> str:
        return f"analysis of run {item_id} ({self._provider_name}, job {job.id})"

    def _log_fields(self, item_id: int) -> dict[str, object]:
        return {"run_id": item_id, "provider": self._provider_name}

    def _step(self, item_id: int) -> Awaitable[StepOutcome]:
        services = self._services
        return execute_analysis(services.db, services.settings, services.client, item_id)

    async def _internal_error(self, item_id: int, error: Exception) -> StepOutcome:
        message = f"internal error in the analysis step: {type(error).__name__}: {error}"
        return await fail_analysis(self._services.db, item_id, message)


class ProviderJobs:
    """The handler of a provider's `probe.<name>` entrypoint: probes, summaries, analyses."""

    def __init__(self, services: JobServices, provider: ProviderLimits) -> None:
        self._probe = ProbeJobHandler(services, provider)
        self._summary = SummaryJobHandler(services, provider)
        self._analysis = AnalysisJobHandler(services, provider)

    async def __call__(self, job: Job) -> None:
        payload = decode_payload(job.payload)
        if SUMMARY_PAYLOAD_KEY in payload:
            await self._summary(job)
        elif ANALYSIS_PAYLOAD_KEY in payload:
            await self._analysis(job)
        else:
            await self._probe(job)
