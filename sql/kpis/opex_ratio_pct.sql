-- opex_ratio_pct: one row for the window; value = operating expense / revenue * 100.
with ledger as (
    select account_type, amount_usd
    from raw.finance_gl_entries
    where entry_date >= $window_start
      and entry_date < $window_end
),

totals as (
    select
        sum(amount_usd) filter (where account_type = 'revenue') as revenue_usd,
        sum(amount_usd) filter (where account_type = 'operating_expense') as opex_usd
    from ledger
),

final as (
    select (coalesce(opex_usd, 0) / nullif(revenue_usd, 0) * 100)::double as value
    from totals
)

select * from final
