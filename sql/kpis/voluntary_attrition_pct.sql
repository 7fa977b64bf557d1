-- voluntary_attrition_pct: one row for the window; value = voluntary leavers in the window
-- / average month-end headcount of the window * 100.
with roster as (
    select snapshot_date, termination_date, termination_type
    from raw.hr_roster
    where snapshot_date >= $window_start
      and snapshot_date < $window_end
),

leavers as (
    select count(*) as voluntary_leavers
    from roster
    where termination_type = 'voluntary'
),

monthly_headcount as (
    select snapshot_date, count(*) filter (where termination_date is null) as headcount
    from roster
    group by snapshot_date
),

final as (
    select (leavers.voluntary_leavers / nullif(avg(monthly_headcount.headcount), 0) * 100)::double
        as value
    from leavers
    cross join monthly_headcount
    group by leavers.voluntary_leavers
)

select * from final
