-- defects_per_1000_orders: one row for the window; value = defects reported in the window per
-- thousand orders placed in the window.
with defect_count as (
    select count(*) as defects
    from raw.operations_defects
    where reported_date >= $window_start
      and reported_date < $window_end
),

order_count as (
    select count(*) as orders
    from raw.operations_orders
    where order_date >= $window_start
      and order_date < $window_end
),

final as (
    select (defects / nullif(orders, 0) * 1000)::double as value
    from defect_count
    cross join order_count
)

select * from final
