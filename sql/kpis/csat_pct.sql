-- csat_pct: one row for the window; value = share of rated tickets rated 4 or 5.
with rated_tickets as (
    select satisfaction_score
    from raw.operations_support_tickets
    where opened_at >= $window_start
      and opened_at < $window_end
      and satisfaction_score is not null
),

final as (
    select
        (count(*) filter (where satisfaction_score >= 4) / nullif(count(*), 0) * 100)::double
            as value
    from rated_tickets
)

select * from final
