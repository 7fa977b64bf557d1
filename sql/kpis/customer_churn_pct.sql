-- customer_churn_pct: one row for the window; value = churned account-months over all
-- account-months in the window's month-end snapshots (a monthly churn rate).
with accounts as (
    select status
    from raw.crm_account_snapshots
    where snapshot_date >= $window_start
      and snapshot_date < $window_end
),

final as (
    select (count(*) filter (where status = 'churned') / nullif(count(*), 0) * 100)::double
        as value
    from accounts
)

select * from final
