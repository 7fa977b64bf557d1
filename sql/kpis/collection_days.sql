-- collection_days: one row for the window; value = mean days from issue to payment of the
-- invoices paid in the window (invoices are loaded by issue month, so earlier months count too).
with paid_invoices as (
    select date_diff('day', issue_date, paid_date) as days_to_pay
    from raw.finance_invoices
    where paid_date >= $window_start
      and paid_date < $window_end
),

final as (
    select avg(days_to_pay)::double as value
    from paid_invoices
)

select * from final
