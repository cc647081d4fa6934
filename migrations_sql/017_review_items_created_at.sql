-- apply_sql: no-transaction
-- 017_review_items_created_at.sql
-- Review items whose approval's created_at the pipeline corrected before 016
-- made the trigger follow it: set from their approvals once. No DDL and no
-- table lock beyond what an UPDATE takes: it reads every item once (about a
-- second at 1M) and locks only the few rows it changes, so the pipeline's
-- writes go on meanwhile. Outside a transaction, so that --rehearse never
-- runs the pass while holding another file's locks. Run again, it finds
-- nothing to change.

update public.review_items i set created_at = p.created_at
  from public.approvals p
 where p.id = i.approval_id and i.created_at is distinct from p.created_at;
