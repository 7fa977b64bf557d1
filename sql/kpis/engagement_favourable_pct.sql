-- engagement_favourable_pct: one row for the window; value = favourable answers (4-5) * 100 / all.
with answers as (
    select score
    from raw.hr_engagement_responses
    where response_date >= $window_start
      and response_date < $window_end
),

final as (
    select (count(*) filter (where score >= 4) / nullif(count(*), 0) * 100)::double as value
    from answers
)

select * from final
