-- ticket_resolution_hours: one row for the window; value = mean hours from opening to
-- resolution of the resolved tickets opened in the window.
with resolved_tickets as (
    select date_diff('second', opened_at, resolved_at) / 3600.0 as resolution_hours
    from raw.operations_support_tickets
    where opened_at >= $window_start
      and opened_at < $window_end
      and resolved_at is not null
),

final as (
    select avg(resolution_hours)::double as value
    from resolved_tickets
)

select * from final
