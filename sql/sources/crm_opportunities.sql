-- crm_opportunities: closed sales opportunities as the CRM database holds them.
-- Grain: one opportunity. Run on the PostgreSQL source; the connector adds the month filter on
-- close_date with bound parameters, so this file names no dates.
select
    opportunity_id,
    customer_id,
    created_date,
    close_date,
    stage,
    amount_usd,
    sales_rep,
    country
from crm.opportunities
