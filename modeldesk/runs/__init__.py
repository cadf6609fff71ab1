"""Definitions, scenarios, runs, estimates, cost breakdowns and the probe step.

Plain async functions over `Database`, called by the API, the web UI and the
queue; none of those holds a run rule of its own. Writes take the acting
`Principal` and refuse non-admins themselves.

Definitions and scenarios:
    create_definition, expand_combinatorially, request_scenario_expansion,
    list_definitions, find_definition, get_definition, definitions_by_ids,
    scenarios_by_definition_ids, scenarios_by_ids
Runs:
    create_run, cancel_run, estimate_run_cost, cost_breakdown,
    cost_breakdowns_by_run_ids, list_runs, find_run, get_run, runs_by_ids,
    run_models_by_run_ids, first_transcripts,
    scenario_counts_by_definition_ids, probes_by_ids, run_progress,
    select_models
Run control: pause_run, resume_run, retry_failed_probes, retryable_failure_counts,
    attempts_by_probe_ids, transcript_export (ExportFormat)
The steps the queue runs, each returning a `StepOutcome`:
    execute_probe (a `probe.<provider>` job); prepare_expansion, then
    execute_expansion (an `expand_scenarios` job); handle_expansion_internal_error

Run status: PENDING (queued) → RUNNING (a first probe started) → COMPLETED
when every probe has finished and at least one succeeded, FAILED when every
probe failed, CANCELLED, or BUDGET_EXCEEDED when its cap stopped it; PAUSED
in between while an admin holds it. Progress counts successes (`completed`),
final failures (`failed`) and probes never called (`skipped`, `cancelled`)
against `total`, so a run always finishes.
"""

from modeldesk.runs.analysis import ModelScores, compute_run_scores
from modeldesk.runs.analysis_queue import ANALYSIS_PAYLOAD_KEY
from modeldesk.runs.analysis_step import execute_analysis, fail_analysis
from modeldesk.runs.breakdown import (
    CostBreakdown,
    CostLine,
    ModelCost,
    cost_breakdown,
    cost_breakdowns_by_run_ids,
)
from modeldesk.runs.budget import clean_max_cost
from modeldesk.runs.call_gate import admission_delay
from modeldesk.runs.cancel import cancel_run
from modeldesk.runs.creation import MAX_PROBES_PER_RUN, create_run
from modeldesk.runs.db_guard import is_database_unavailable, unavailable_error
from modeldesk.runs.definitions import (
    create_definition,
    definition_dimensions,
    definitions_by_ids,
    expand_combinatorially,
    find_definition,
    get_definition,
    list_definitions,
    scenarios_by_definition_ids,
    scenarios_by_ids,
)
from modeldesk.runs.estimate import FALLBACK_RULE, ModelEstimate, RunEstimate, estimate_run_cost
from modeldesk.runs.expansion import (
    ExpansionCall,
    execute_expansion,
    handle_expansion_internal_error,
    prepare_expansion,
    request_scenario_expansion,
)
from modeldesk.runs.export import ExportFormat, transcript_export
from modeldesk.runs.fleet_status import (
    FleetTotals,
    ProviderActivity,
    fleet_totals,
    provider_activity,
)
from modeldesk.runs.model_selection import TargetModel, default_models, select_models
from modeldesk.runs.probe_records import QueueJob
from modeldesk.runs.probe_step import execute_probe, handle_internal_error
from modeldesk.runs.queries import (
    RunProgress,
    find_run,
    first_transcripts,
    get_run,
    list_runs,
    probes_by_ids,
    run_models_by_run_ids,
    run_progress,
    runs_by_ids,
    scenario_counts_by_definition_ids,
)
from modeldesk.runs.rubrics import set_definition_rubric
from modeldesk.runs.run_control import (
    attempts_by_probe_ids,
    pause_run,
    resume_run,
    retry_failed_probes,
    retryable_failure_counts,
)
from modeldesk.runs.scenario_files import (
    SCENARIO_FILE_TYPES,
    ScenarioFileFormat,
    upload_scenarios,
)
from modeldesk.runs.spend import DailySpend, ModelSpend, Spend, parse_spend_day, read_spend
from modeldesk.runs.step_outcome import CallFailure, StepOutcome
from modeldesk.runs.summary_queue import SUMMARY_PAYLOAD_KEY
from modeldesk.runs.summary_reads import analyses_by_run_ids, summaries_by_transcript_ids
from modeldesk.runs.summary_step import execute_summary, handle_summary_internal_error
from modeldesk.runs.templates import MAX_SCENARIOS, Dimension
from modeldesk.runs.transcript_pages import TranscriptPage, transcript_counts, transcript_pages

__all__ = [
    "ANALYSIS_PAYLOAD_KEY",
    "FALLBACK_RULE",
    "MAX_PROBES_PER_RUN",
    "MAX_SCENARIOS",
    "SCENARIO_FILE_TYPES",
    "SUMMARY_PAYLOAD_KEY",
    "CallFailure",
    "CostBreakdown",
    "CostLine",
    "DailySpend",
    "Dimension",
    "ExpansionCall",
    "ExportFormat",
    "FleetTotals",
    "ModelCost",
    "ModelEstimate",
    "ModelScores",
    "ModelSpend",
    "ProviderActivity",
    "QueueJob",
    "RunEstimate",
    "RunProgress",
    "ScenarioFileFormat",
    "Spend",
    "StepOutcome",
    "TargetModel",
    "TranscriptPage",
    "admission_delay",
    "analyses_by_run_ids",
    "attempts_by_probe_ids",
    "cancel_run",
    "clean_max_cost",
    "compute_run_scores",
    "cost_breakdown",
    "cost_breakdowns_by_run_ids",
    "create_definition",
    "create_run",
    "default_models",
    "definition_dimensions",
    "definitions_by_ids",
    "estimate_run_cost",
    "execute_analysis",
    "execute_expansion",
    "execute_probe",
    "execute_summary",
    "expand_combinatorially",
    "fail_analysis",
    "find_definition",
    "find_run",
    "first_transcripts",
    "fleet_totals",
    "get_definition",
    "get_run",
    "handle_expansion_internal_error",
    "handle_internal_error",
    "handle_summary_internal_error",
    "is_database_unavailable",
    "list_definitions",
    "list_runs",
    "parse_spend_day",
    "pause_run",
    "prepare_expansion",
    "probes_by_ids",
    "provider_activity",
    "read_spend",
    "request_scenario_expansion",
    "resume_run",
    "retry_failed_probes",
    "retryable_failure_counts",
    "run_models_by_run_ids",
    "run_progress",
    "runs_by_ids",
    "scenario_counts_by_definition_ids",
    "scenarios_by_definition_ids",
    "scenarios_by_ids",
    "select_models",
    "set_definition_rubric",
    "summaries_by_transcript_ids",
    "transcript_counts",
    "transcript_export",
    "transcript_pages",
    "unavailable_error",
    "upload_scenarios",
]
