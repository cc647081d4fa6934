-- 006_create_storage_bucket.sql
-- The private bucket flow-artifacts and the storage.objects policies that let
-- authenticated users work with its objects, and with no other bucket's.
-- Never alters storage tables: on hosted Supabase the migrating role does not
-- own storage.objects. If creating a policy is refused, the bucket is still
-- created and a WARNING says what to do; the policies are permissive, so
-- without them access fails closed.

insert into storage.buckets (id, name, public)
values ('flow-artifacts', 'flow-artifacts', false)
on conflict (id) do nothing;

do $$
declare
  policy record;
begin
  for policy in
    select * from (values
      ('flow_artifacts_select', 'select', 'using (bucket_id = ''flow-artifacts'')'),
      ('flow_artifacts_insert', 'insert', 'with check (bucket_id = ''flow-artifacts'')'),
      ('flow_artifacts_update', 'update', 'using (bucket_id = ''flow-artifacts'') with check (bucket_id = ''flow-artifacts'')'),
      ('flow_artifacts_delete', 'delete', 'using (bucket_id = ''flow-artifacts'')')
    ) as p (name, command, clause)
  loop
    if not exists (
      select 1 from pg_policies
      where schemaname = 'storage' and tablename = 'objects' and policyname = policy.name
    ) then
      begin
        execute format('create policy %I on storage.objects for %s to authenticated %s',
                       policy.name, policy.command, policy.clause);
      exception when insufficient_privilege then
        raise warning 'flow-artifacts: not allowed to create policy % on storage.objects (%).', policy.name, sqlerrm
          using hint = 'Create it in the Supabase dashboard (Storage > Policies) for role authenticated: '
                       || upper(policy.command) || ' ' || policy.clause || '. Until then access to the bucket fails closed.';
      end;
    end if;
  end loop;
end;
$$;
