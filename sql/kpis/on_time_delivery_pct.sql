-- on_time_delivery_pct: one row for the window; value = share of delivered orders placed in the
-- window that arrived on or before the promised date.
with delivered_orders as (
    select delivered_date <= promised_date as is_on_time
    from raw.operations_orders
    where order_date >= $window_start
      and order_date < $window_end
      and delivered_date is not null
),

final as (
    select (count(*) filter (where is_on_time) / nullif(count(*), 0) * 100)::double as value
    from delivered_orders
)

select * from final
