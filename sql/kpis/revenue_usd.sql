-- revenue_usd: one row for the window; value = revenue booked to revenue accounts, in USD.
with revenue_lines as (
    select amount_usd
    from raw.finance_gl_entries
    where entry_date >= $window_start
      and entry_date < $window_end
      and account_type = 'revenue'
),

final as (
    select sum(amount_usd)::double as value
    from revenue_lines
)

select * from final
