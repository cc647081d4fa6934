"""Realistic volume for the ops console and the benchmarks: `manage.py seed_bulk`.

Set-based SQL, one statement per table, in one transaction. Every value is a
function of the row's number (hashed for variety), so the rows of different
tables agree without joins: artifact i has approval i and, mostly, job i.

Shape, with N artifacts and K pending:
- projects: N // 1000 (at least 1);
- artifacts: numbered 1..N oldest first over the last year; text, JSON (a few
  bare JSON strings) and files (storage paths whose objects do not exist);
  in every block of ten, the 9th and 10th revise the 8th (versions 2 and 3);
- approvals: one per artifact; the newest K pending, the rest decided
  (revised versions rejected), with who, when and notes;
- jobs: N. Job i produced artifact i (needs_approval / done / failed after
  its approval), except every 25th decided artifact, whose slot holds a
  follow-up job taking it as input (queued, running, failed or done);
- runs: 3 N, three model calls per job (queued jobs have none: their runs
  go to the job before), tokens, durations and costs at the prices below.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction

from approvals.models import Approval, Artifact, Job, Project, Run
from approvals.seeding import bulk_sql as statements

TABLES = ("projects", "artifacts", "jobs", "approvals", "runs")
# The ops console's tables kept from these by triggers (010_ops_rollups.sql).
OPS_TABLES = ("review_items", "run_cost_days", "run_cost_rollup")
OPS_TRIGGERS_SQL = (
    "alter table approvals {action} trigger approvals_keep_review_items;"
    " alter table runs {action} trigger runs_inserted_stamp_cost_days"
)

# model: (provider, USD per million prompt tokens, per million completion tokens,
# milliseconds per completion token, weight in the mix out of 20)
MODEL_PRICES: dict[str, tuple[str, Decimal, Decimal, int, int]] = {
    "gpt-4o-mini": ("openai", Decimal("0.15"), Decimal("0.60"), 12, 7),
    "gpt-4o": ("openai", Decimal("2.50"), Decimal("10.00"), 20, 2),
    "claude-3-5-sonnet": ("anthropic", Decimal("3.00"), Decimal("15.00"), 18, 4),
    "claude-3-5-haiku": ("anthropic", Decimal("0.80"), Decimal("4.00"), 10, 2),
    "gemini-1.5-pro": ("google", Decimal("1.25"), Decimal("5.00"), 16, 2),
    "gemini-1.5-flash": ("google", Decimal("0.075"), Decimal("0.30"), 8, 3),
}

# (extension, mime type, job kind, smallest and largest size in bytes); repeats weight the mix.
FILE_TYPES = [
    ("png", "image/png", "render_image", 150_000, 3_000_000),
    ("png", "image/png", "render_image", 150_000, 3_000_000),
    ("jpg", "image/jpeg", "render_image", 80_000, 2_000_000),
    ("jpg", "image/jpeg", "render_image", 80_000, 2_000_000),
    ("webp", "image/webp", "render_image", 40_000, 900_000),
    ("gif", "image/gif", "render_image", 200_000, 6_000_000),
    ("mp4", "video/mp4", "render_video", 2_000_000, 80_000_000),
    ("mp4", "video/mp4", "render_video", 2_000_000, 80_000_000),
    ("pdf", "application/pdf", "build_document", 90_000, 5_000_000),
    ("csv", "text/csv", "export_report", 1_000, 250_000),
    ("mp3", "audio/mpeg", "render_audio", 300_000, 9_000_000),
    ("md", "text/markdown", "draft_article", 2_000, 40_000),
]
FILE_LABELS = {
    "png": "hero",
    "jpg": "banner",
    "webp": "thumbnail",
    "gif": "loop",
    "mp4": "teaser",
    "pdf": "brochure",
    "csv": "metrics",
    "mp3": "voiceover",
    "md": "article",
}

TOPICS = [
    "spring-launch", "summer-sale", "black-friday", "product-update", "customer-story", "webinar-invite",
    "hiring-drive", "feature-teaser", "holiday-greetings", "case-study", "event-recap", "founder-note",
    "pricing-change", "partner-spotlight", "community-meetup", "release-notes", "tips-and-tricks",
    "behind-the-scenes", "year-in-review", "beta-invite",
]  # fmt: skip
PLATFORMS = ["linkedin", "x", "instagram", "facebook", "tiktok", "threads", "newsletter"]
OPENERS = [
    "Big news today:", "We're excited to share", "Quick update for our community:", "You asked, we listened:",
    "Mark your calendars:", "A story worth telling:", "Here's a first look at", "Thank you for an amazing year!",
]  # fmt: skip
CLOSERS = [
    "Read more at the link in bio.", "Tell us what you think in the comments.", "Sign up before spots run out.",
    "Share it with someone who needs it.", "More details next week.", "Available today for every plan.",
]  # fmt: skip
BRANDS = [
    "Northwind Coffee", "Acme Robotics", "Blue Harbor Bank", "Cedar & Sage", "Lumen Health", "Orbit Fitness",
    "Pinecrest Outdoors", "Quanta Labs", "Riverside Books", "Solace Skincare", "Tidewater Travel", "Urban Pantry",
    "Vantage Motors", "Willow Home", "Zephyr Audio", "Brightside Kids", "Copperleaf Studio", "Driftwood Surf",
]  # fmt: skip
CAMPAIGNS = [
    "Spring launch", "Always-on social", "Q3 brand refresh", "Holiday campaign", "Product Hunt launch",
    "Recruiting push", "Customer stories", "Newsletter relaunch", "Conference season", "Back to school",
]  # fmt: skip
REVIEWERS = ["alice", "bilal", "chen", "dana", "emeka", "farah", "gus", "hana", "ivan", "julia"]
APPROVE_NOTES = ["Looks good.", "Ship it.", "Approved, nice work.", "Good to go for Monday.", "Fine as is."]
REJECT_NOTES = [
    "Tone is off for this brand: too salesy.",
    "Wrong product name in the second sentence.",
    "Image is blurry on mobile; please re-render at 2x.",
    "Legal needs the disclaimer at the end.",
    "Too long for this platform; cut by half.",
    "Hashtags do not match the campaign brief.",
    "Colours are off-brand; use the spring palette.",
]
FOLLOW_UP_KINDS = ["publish_post", "render_thumbnail", "translate_post", "schedule_post"]
FOLLOW_UP_ERRORS = [
    "Provider timeout after 60 s",
    "Rate limited by provider (HTTP 429)",
    "Upstream returned invalid JSON",
    "Storage upload failed: connection reset by peer",
]
RUN_STEPS = ["draft", "critique", "final"]


class TablesNotEmpty(Exception):
    pass


@dataclass(frozen=True)
class BulkPlan:
    artifacts: int
    pending: int
    projects: int
    jobs: int
    approvals: int
    runs: int

    @classmethod
    def for_artifacts(cls, *, artifacts: int, pending: int | None = None) -> "BulkPlan":
        if artifacts < 1:
            raise ValueError("--artifacts must be at least 1.")
        pending = artifacts // 10 if pending is None else pending
        if not 0 <= pending <= artifacts:
            raise ValueError(f"--pending must be between 0 and the number of artifacts ({artifacts:,}).")
        return cls(
            artifacts=artifacts,
            pending=pending,
            projects=max(1, artifacts // 1000),
            jobs=artifacts,
            approvals=artifacts,
            runs=3 * artifacts,
        )


def _model_mix() -> dict[str, list]:
    """Parallel arrays with one slot per unit of weight, so a hash picks a model by its share."""
    mix: dict[str, list] = {"models": [], "providers": [], "prompt_prices": [], "completion_prices": [], "ms": []}
    for model, (provider, prompt_price, completion_price, ms_per_token, weight) in MODEL_PRICES.items():
        for _ in range(weight):
            mix["models"].append(model)
            mix["providers"].append(provider)
            mix["prompt_prices"].append(prompt_price)
            mix["completion_prices"].append(completion_price)
            mix["ms"].append(ms_per_token)
    return mix


def _parameters(plan: BulkPlan) -> dict:
    return {
        "projects": plan.projects,
        "artifacts": plan.artifacts,
        "runs": plan.runs,
        "brands": BRANDS,
        "campaigns": CAMPAIGNS,
        "topics": TOPICS,
        "platforms": PLATFORMS,
        "openers": OPENERS,
        "closers": CLOSERS,
        "file_exts": [t[0] for t in FILE_TYPES],
        "file_mimes": [t[1] for t in FILE_TYPES],
        "file_jobs": [t[2] for t in FILE_TYPES],
        "file_min": [t[3] for t in FILE_TYPES],
        "file_max": [t[4] for t in FILE_TYPES],
        "file_labels": [FILE_LABELS[t[0]] for t in FILE_TYPES],
        "reviewers": REVIEWERS,
        "approve_notes": APPROVE_NOTES,
        "reject_notes": REJECT_NOTES,
        "follow_up_kinds": FOLLOW_UP_KINDS,
        "follow_up_errors": FOLLOW_UP_ERRORS,
        "steps": RUN_STEPS,
        **_model_mix(),
    }


def non_empty_tables() -> list[str]:
    models = {model._meta.db_table: model for model in (Project, Artifact, Job, Approval, Run)}
    return [table for table in TABLES if models[table].objects.exists()]


def seed_bulk(*, plan: BulkPlan, truncate: bool, log: Callable[[str], None] = lambda _: None) -> dict[str, float]:
    """Fill the five tables; returns seconds per step. Refuses non-empty tables unless truncate."""
    timings: dict[str, float] = {}
    parameters = _parameters(plan)

    def step(name: str, sql: str, params: dict | None = None) -> None:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        timings[name] = time.perf_counter() - started
        log(f"{name}: {timings[name]:.1f} s")

    with transaction.atomic():
        busy = non_empty_tables()
        if busy and not truncate:
            raise TablesNotEmpty(
                f"These tables already hold rows: {', '.join(busy)}. Pass --truncate to empty all five first."
            )
        # Losing this transaction in a crash costs a re-run, never consistency.
        # The ORDER BY of jobs and runs sorts in memory.
        step("settings", "set local synchronous_commit = off; set local work_mem = '512MB'")
        if busy:
            # CASCADE: the app's tables that point into these (claims, 008; the ops rollups, 010) go with them.
            step("truncate", "truncate " + ", ".join(reversed(TABLES)) + " cascade")
        # Row by row, the ops console's triggers would cost more than the load;
        # what they keep is rebuilt in one pass at the end (same transaction).
        step("triggers off", OPS_TRIGGERS_SQL.format(action="disable"))
        step("functions", statements.functions_sql(artifacts=plan.artifacts, pending=plan.pending))
        step("projects", statements.PROJECTS, parameters)
        step("artifacts", statements.ARTIFACTS, parameters)
        step("approvals", statements.APPROVALS, parameters)
        step("jobs", statements.JOBS, parameters)
        step("runs", statements.RUNS, parameters)
        step("triggers on", OPS_TRIGGERS_SQL.format(action="enable"))
        step("review items", "select rebuild_review_items()")
        step("costs rollup", "select refresh_run_cost_rollup()")
    # Statistics for the planner, and after the commit the visibility map that
    # autovacuum would set in time: without it every index-only scan of the
    # queue also reads the table. Inside a caller's transaction (a test's),
    # where VACUUM cannot run, the statistics only.
    tables = ", ".join((*TABLES, *OPS_TABLES))
    if connection.in_atomic_block:
        step("analyze", f"analyze {tables}")
    else:
        step("vacuum analyze", f"vacuum (analyze) {tables}")
    return timings
