-- order_cycle_days: one row for the window; value = mean days from order to delivery.
with delivered_orders as (
    select date_diff('day', order_date, delivered_date) as cycle_days
    from raw.operations_orders
    where order_date >= $window_start
      and order_date < $window_end
      and delivered_date is not null
),

final as (
    select avg(cycle_days)::double as value
    from delivered_orders
)

select * from final
