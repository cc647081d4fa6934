-- apply_sql: no-transaction
-- 012_validate_approval_checks.sql: the rows already there checked against
-- 011's two checks. VALIDATE CONSTRAINT scans the table under SHARE UPDATE
-- EXCLUSIVE, which lets the pipeline read and write throughout. Outside a
-- transaction so that --rehearse never runs the scan while holding 011's lock.
-- Where 009 was applied both are valid already and this is quick.
alter table public.approvals
  validate constraint approvals_reasons_known,
  validate constraint approvals_outcome_matches_status;
