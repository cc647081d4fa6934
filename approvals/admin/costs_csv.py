"""Each table of the costs dashboard as a CSV file: full-precision figures, ISO dates."""

import csv

from django.http import HttpResponse

from approvals.admin.costs import CostReport
from approvals.selectors.run_totals import RunTotals

# A spreadsheet runs a cell starting with one of these as a formula: names come from the pipeline.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

USAGE_COLUMNS = ["runs", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd"]


def _usage(usage: RunTotals) -> list:
    return [usage.runs, usage.prompt_tokens, usage.completion_tokens, usage.total_tokens, usage.cost_usd]


def _totals(report: CostReport) -> tuple[list[str], list[list]]:
    return ["start", "end", *USAGE_COLUMNS], [[report.period.start, report.period.end, *_usage(report.totals)]]


def _by_model(report: CostReport) -> tuple[list[str], list[list]]:
    return ["model", *USAGE_COLUMNS], [[row.label, *_usage(row.usage)] for row in report.by_model]


def _by_project(report: CostReport) -> tuple[list[str], list[list]]:
    return ["project_id", "project", *USAGE_COLUMNS], [
        [row.key or "", row.label, *_usage(row.usage)] for row in report.by_project
    ]


def _by_day(report: CostReport) -> tuple[list[str], list[list]]:
    return ["day", *USAGE_COLUMNS], [[row.key.isoformat(), *_usage(row.usage)] for row in report.by_day]


def _top_jobs(report: CostReport) -> tuple[list[str], list[list]]:
    return ["job_id", "day", "kind", "status", "output_artifact_id", "project", *USAGE_COLUMNS], [
        [
            top.job.pk,
            top.day.isoformat(),
            top.job.kind,
            top.status_label,
            top.job.output_artifact_id or "",
            top.job.output_artifact.project.name if top.job.output_artifact else "",
            *_usage(top.usage),
        ]
        for top in report.top_jobs
    ]


CSV_TABLES = {
    "totals": _totals,
    "by-model": _by_model,
    "by-project": _by_project,
    "by-day": _by_day,
    "top-jobs": _top_jobs,
}


def _inert(value):
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def csv_download(report: CostReport, *, table: str) -> HttpResponse:
    header, rows = CSV_TABLES[table](report)
    filename = f"costs-{table}-{report.period.start.isoformat()}-{report.period.end.isoformat()}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows([_inert(value) for value in row] for row in rows)
    return response
