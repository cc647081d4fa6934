-- apply_sql: no-transaction
-- 015_backfill_ops_rollups.sql: review items for the approvals already
-- there, then the closed days of the costs rollup (014's procedure). Outside
-- a transaction, so that each batch of approvals commits on its own: no
-- pipeline table stays locked, and if this stops halfway the batches done
-- are kept; once cleared with `apply_sql --repair 015`, the next run goes on
-- from what is missing. Where 010 was applied, every item is there already.
call public.backfill_ops_rollups();
