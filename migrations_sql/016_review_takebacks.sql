-- 016_review_takebacks.sql
-- Decisions taken back: one row per decided approval that was undone (by its
-- decider, within the undo window) or reopened (by a lead), written by the
-- decision service in the same transaction as the new pending approval. The
-- primary key makes a decision taken back at most once, so a second undo can
-- never overturn a later reviewer's decision; review analytics leave undone
-- decisions out (an approval undone and made again counted twice).
-- Also: review_items follows an approval's created_at when the pipeline
-- corrects it (it kept the first one, so analytics showed the wrong age).
-- The pipeline never reads or writes the table.
--
-- Live-safe: a new table (its foreign keys take SHARE ROW EXCLUSIVE on
-- approvals for a moment, no rows read) and a trigger replaced in place;
-- items corrected before this file are set by 017, outside this transaction.

create table if not exists public.review_takebacks (
  approval_id   uuid primary key references public.approvals (id) on delete cascade,
  reopened_as   uuid references public.approvals (id) on delete set null,
  kind          text not null,
  taken_back_by text not null,
  taken_back_at timestamptz not null default now(),
  constraint review_takebacks_kind check (kind in ('undo', 'reopen')),
  constraint review_takebacks_by_length check (char_length(taken_back_by) between 1 and 150)
);

comment on table public.review_takebacks is
  'Reviewer app: decided approvals taken back (undo or reopen), and the pending approval that replaced each.';

-- Deleting an approval sets reopened_as null here: without the index that is a scan per deleted row.
create index if not exists review_takebacks_reopened_as_idx on public.review_takebacks (reopened_as);

alter table public.review_takebacks enable row level security;
revoke all on table public.review_takebacks from anon, authenticated;
grant select on table public.review_takebacks to authenticated;
grant all on table public.review_takebacks to service_role;

drop policy if exists review_takebacks_authenticated_read on public.review_takebacks;
create policy review_takebacks_authenticated_read on public.review_takebacks
  for select to authenticated using (true);

-- The review item keeps the approval's created_at in step: the same function
-- as before, with created_at among what a conflict updates, and the trigger
-- firing on it too.
create or replace function public.approvals_keep_review_items() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if new.status = 'pending' then
    insert into public.review_items as item
           (approval_id, project_id, status, created_at, decided_at, decided_by, reasons, outcome)
    select new.id, a.project_id, new.status, new.created_at, new.decided_at, new.decided_by, new.reasons, new.outcome
      from public.artifacts a where a.id = new.artifact_id
    on conflict (approval_id) do update
       set status = excluded.status, created_at = excluded.created_at, decided_at = excluded.decided_at,
           decided_by = excluded.decided_by, job_kind = null, prompt = null, models = '{}', cost_usd = 0,
           reasons = excluded.reasons, outcome = excluded.outcome;
    return null;
  end if;
  insert into public.review_items as item
         (approval_id, project_id, status, created_at, decided_at, decided_by, job_kind, prompt, models, cost_usd,
          reasons, outcome)
  select new.id, a.project_id, new.status, new.created_at, new.decided_at, new.decided_by, w.job_kind,
         coalesce(a.metadata ->> 'prompt', w.params), w.models, w.cost_usd, new.reasons, new.outcome
    from public.artifacts a
   cross join public.review_item_work(public.review_item_artifacts(a.id, a.previous_version_id, new.outcome)) w
   where a.id = new.artifact_id
  on conflict (approval_id) do update
     set status = excluded.status, created_at = excluded.created_at, decided_at = excluded.decided_at,
         decided_by = excluded.decided_by, job_kind = excluded.job_kind, prompt = excluded.prompt,
         models = excluded.models, cost_usd = excluded.cost_usd, reasons = excluded.reasons,
         outcome = excluded.outcome;
  return null;
end;
$$;

create or replace trigger approvals_keep_review_items
  after insert or update of status, decided_at, decided_by, reasons, outcome, created_at on public.approvals
  for each row execute function public.approvals_keep_review_items();
