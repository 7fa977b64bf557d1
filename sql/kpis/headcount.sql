-- headcount: one row for the window; value = employees on the last month-end roster of the
-- window who have not left.
with last_snapshot as (
    select max(snapshot_date) as snapshot_date
    from raw.hr_roster
    where snapshot_date >= $window_start
      and snapshot_date < $window_end
),

final as (
    select count(*) filter (where roster.termination_date is null)::double as value
    from raw.hr_roster as roster
    inner join last_snapshot on roster.snapshot_date = last_snapshot.snapshot_date
    having count(*) > 0
)

select * from final
