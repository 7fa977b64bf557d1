-- overdue_invoices_pct: one row for the window; value = share of invoices due in the window
-- that were paid after the due date or are still unpaid.
with due_invoices as (
    select
        paid_date is null or paid_date > due_date as is_late
    from raw.finance_invoices
    where due_date >= $window_start
      and due_date < $window_end
),

final as (
    select (count(*) filter (where is_late) / nullif(count(*), 0) * 100)::double as value
    from due_invoices
)

select * from final
