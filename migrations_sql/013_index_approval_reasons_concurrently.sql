-- apply_sql: no-transaction
-- 013_index_approval_reasons_concurrently.sql: 009's index for history and
-- ops filtering by a reason ("reasons @> array['tone']"), built without
-- blocking the pipeline's writes. Where 009 made it, nothing to do.
create index concurrently if not exists approvals_reasons_idx
  on public.approvals using gin (reasons) where cardinality(reasons) > 0;
