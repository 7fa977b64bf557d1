-- active_customers: one row for the window; value = active accounts at the window's last
-- month end (the catalog evaluates this KPI over the last month of longer windows).
with last_snapshot as (
    select max(snapshot_date) as snapshot_date
    from raw.crm_account_snapshots
    where snapshot_date >= $window_start
      and snapshot_date < $window_end
),

final as (
    select count(*)::double as value
    from raw.crm_account_snapshots as accounts
    inner join last_snapshot on accounts.snapshot_date = last_snapshot.snapshot_date
    where accounts.status = 'active'
    having count(*) > 0
)

select * from final
