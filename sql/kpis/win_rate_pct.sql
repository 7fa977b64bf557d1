-- win_rate_pct: one row for the window; value = won / closed opportunities * 100.
with closed as (
    select stage
    from raw.crm_opportunities
    where close_date >= $window_start
      and close_date < $window_end
),

final as (
    select (count(*) filter (where stage = 'closed_won') / nullif(count(*), 0) * 100)::double
        as value
    from closed
)

select * from final
