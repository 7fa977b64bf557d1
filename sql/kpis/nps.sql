-- nps: one row for the window; value = % promoters (9-10) - % detractors (0-6) of all answers.
with answers as (
    select score
    from raw.crm_nps_responses
    where response_date >= $window_start
      and response_date < $window_end
),

final as (
    select
        ((count(*) filter (where score >= 9) - count(*) filter (where score <= 6))
            / nullif(count(*), 0) * 100)::double as value
    from answers
)

select * from final
