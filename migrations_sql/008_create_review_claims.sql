-- 008_create_review_claims.sql
-- Review claims: who is reviewing which pending approval right now, so that
-- "Next" steers reviewers apart. One row per claimed approval; a claim ends
-- with the decision, when its reviewer leaves, or by itself at expires_at.
-- Claims steer, they never block: the decision does not look at them.
-- The pipeline never reads or writes this table.

create table if not exists public.review_claims (
  approval_id uuid primary key references public.approvals (id) on delete cascade,
  claimant    text not null,
  claimed_at  timestamptz not null default now(),
  expires_at  timestamptz not null,
  constraint review_claims_claimant_length check (char_length(claimant) between 1 and 150),
  constraint review_claims_expires_after_claimed check (expires_at > claimed_at)
);

comment on table public.review_claims is
  'Reviewer app: which reviewer has a pending approval open, until when (renewed while the page is open).';

-- Opening an item releases the reviewer's other claims; the admin filters live from expired ones.
create index if not exists review_claims_claimant_idx on public.review_claims (claimant);
create index if not exists review_claims_expires_at_idx on public.review_claims (expires_at);

alter table public.review_claims enable row level security;
-- Supabase's default privileges would also give authenticated TRUNCATE, REFERENCES and TRIGGER.
revoke all on table public.review_claims from anon, authenticated;
grant select, insert, update, delete on table public.review_claims to authenticated;
grant all on table public.review_claims to service_role;

drop policy if exists review_claims_authenticated_all on public.review_claims;
create policy review_claims_authenticated_all on public.review_claims
  for all to authenticated using (true) with check (true);
