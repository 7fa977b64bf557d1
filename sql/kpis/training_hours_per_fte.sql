-- training_hours_per_fte: one row for the window; value = training hours completed in the
-- window / the average total FTE of the window's month-end rosters.
with training as (
    select coalesce(sum(hours), 0) as training_hours
    from raw.hr_training_records
    where completion_date >= $window_start
      and completion_date < $window_end
),

monthly_fte as (
    select snapshot_date, sum(fte) as total_fte
    from raw.hr_roster
    where snapshot_date >= $window_start
      and snapshot_date < $window_end
    group by snapshot_date
),

final as (
    select (training.training_hours / nullif(avg(monthly_fte.total_fte), 0))::double as value
    from training
    cross join monthly_fte
    group by training.training_hours
)

select * from final
