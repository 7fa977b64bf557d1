-- create_tables: the warehouse's own tables (raw tables are created from the catalog).
-- Every table carries the period it describes and the run that wrote it.
create schema if not exists raw;
create schema if not exists kpi;
create schema if not exists score;
create schema if not exists meta;

create table if not exists meta.loads (
    period date not null,
    table_key varchar not null,
    rows_loaded bigint not null,
    source_path varchar not null,
    run_id varchar not null,
    loaded_at timestamp not null,
    primary key (period, table_key)
);

-- A source table whose load failed for a month (pipelines/ingest/load_failures.py). The month
-- keeps the rows of its last good load, but every KPI reading the table is withheld for that
-- month until a later load of the month succeeds (which deletes the row).
create table if not exists meta.load_failures (
    period date not null,
    table_key varchar not null,
    message varchar not null,  -- one line: source, table, file and line where known, the cause
    run_id varchar not null,
    failed_at timestamp not null,
    primary key (period, table_key)
);

create table if not exists kpi.kpi_values (
    period date not null,
    kpi_id varchar not null,
    state varchar not null,
    value double,
    ytd_value double,
    ttm_value double,
    withheld_reason varchar,
    tables_read varchar not null,
    catalog_version varchar not null,
    run_id varchar not null,
    computed_at timestamp not null,
    definition_revision integer not null default 0, -- the KPI's revision in force (0: original)
    definition_since date,              -- the month that revision took effect (null: original)
    measured_in date,                   -- quarterly/annual KPIs: the measurement's month
    primary key (period, kpi_id)
);

-- Warehouses made before KPI revisions gain the columns (rows already there: the original).
alter table kpi.kpi_values add column if not exists definition_revision integer default 0;
alter table kpi.kpi_values add column if not exists definition_since date;
-- ... and before quarterly and annual KPIs (rows already there: monthly measurements).
alter table kpi.kpi_values add column if not exists measured_in date;

create table if not exists score.kpi_scores (
    period date not null,
    kpi_id varchar not null,
    objective_id varchar not null,
    status varchar not null,
    score double,
    target double,
    target_lower double,
    target_upper double,
    red_flag double,
    ytd_target double,
    variance double,
    variance_pct double,
    weight double not null,
    forecast double,
    forecast_target double,
    forecast_method varchar,
    forecast_meets boolean,
    run_id varchar not null,
    primary key (period, kpi_id)
);

create table if not exists score.rollup_scores (
    period date not null,
    level varchar not null,
    node_id varchar not null,
    parent_id varchar,
    status varchar not null,
    score double,
    scored_count integer not null,
    total_count integer not null,
    scored_weight double not null,
    total_weight double not null,
    run_id varchar not null,
    primary key (period, level, node_id)
);

-- Fiscal quarters and years (pipelines/scoring/review.py): each KPI's value over the review from
-- the same SQL as its months, scored against the review's target, and the roll-ups. Keyed by
-- the review ('2026-Q3', '2026'); computed when the review's last month is scored.
create schema if not exists review;

create table if not exists review.kpi_results (
    review_key varchar not null,
    kind varchar not null,              -- quarter, year
    first_month date not null,
    last_month date not null,
    kpi_id varchar not null,
    objective_id varchar not null,
    state varchar not null,             -- value, no_data, withheld
    value double,
    months integer not null,            -- months of the review (quarterly/annual KPIs: 1)
    months_with_data integer not null,  -- of which the KPI had a value
    measured_in date,                   -- quarterly/annual KPIs: the measurement's month
    withheld_reason varchar,
    status varchar not null,
    score double,
    target double,
    target_lower double,
    target_upper double,
    red_flag double,
    variance double,
    variance_pct double,
    weight double not null,
    catalog_version varchar not null,
    run_id varchar not null,
    computed_at timestamp not null,
    primary key (review_key, kpi_id)
);

create table if not exists review.rollup_scores (
    review_key varchar not null,
    kind varchar not null,
    first_month date not null,
    last_month date not null,
    level varchar not null,
    node_id varchar not null,
    parent_id varchar,
    status varchar not null,
    score double,
    scored_count integer not null,
    total_count integer not null,
    scored_weight double not null,
    total_weight double not null,
    catalog_version varchar not null,
    run_id varchar not null,
    computed_at timestamp not null,
    primary key (review_key, level, node_id)
);

-- Every board pack rendered (pipelines/report/pack.py): where it is and its hash.
create table if not exists review.packs (
    review_key varchar not null primary key,
    html_path varchar not null,
    pdf_path varchar not null,
    pdf_sha256 varchar not null,
    catalog_version varchar not null,
    run_id varchar not null,
    rendered_at timestamp not null
);

-- Business units (definitions/units.yaml; pipelines/kpis/units.py, pipelines/scoring/units.py):
-- each unit's month from the same KPI SQL over its rows, scored against its targets.
create schema if not exists unit;

create table if not exists unit.kpi_values (
    period date not null,
    unit_id varchar not null,
    kpi_id varchar not null,
    state varchar not null,
    value double,
    ytd_value double,
    ttm_value double,
    withheld_reason varchar,
    measured_in date,
    catalog_version varchar not null,
    run_id varchar not null,
    computed_at timestamp not null,
    primary key (period, unit_id, kpi_id)
);

create table if not exists unit.kpi_scores (
    period date not null,
    unit_id varchar not null,
    kpi_id varchar not null,
    objective_id varchar not null,
    status varchar not null,
    score double,
    target double,
    target_lower double,
    target_upper double,
    red_flag double,
    ytd_target double,
    variance double,
    variance_pct double,
    weight double not null,
    forecast double,
    forecast_target double,
    forecast_method varchar,
    forecast_meets boolean,
    run_id varchar not null,
    primary key (period, unit_id, kpi_id)
);

create table if not exists unit.rollup_scores (
    period date not null,
    unit_id varchar not null,
    level varchar not null,
    node_id varchar not null,
    parent_id varchar,
    status varchar not null,
    score double,
    scored_count integer not null,
    total_count integer not null,
    scored_weight double not null,
    total_weight double not null,
    run_id varchar not null,
    primary key (period, unit_id, level, node_id)
);

-- Every rendering of a period's report, kept with its KPI values and an archived copy of the
-- PDF, so the report that was sent can be found again and a restatement says what changed.
create table if not exists meta.report_versions (
    period date not null,
    version integer not null,
    pdf_sha256 varchar not null,
    archived_pdf varchar not null,
    kpi_values json not null,
    catalog_version varchar not null,
    run_id varchar not null,
    rendered_at timestamp not null,
    primary key (period, version)
);

create table if not exists meta.reports (
    period date not null primary key,
    html_path varchar not null,
    pdf_path varchar not null,
    pdf_sha256 varchar not null,
    catalog_version varchar not null,
    run_id varchar not null,
    rendered_at timestamp not null
);

-- The email delivery ledger: one row per message and recipient. A row is claimed before the
-- message is handed to the server and finished (sent or failed) after, so a send that never
-- completed stays visible as 'claimed' and is reported instead of being silently repeated.
create schema if not exists delivery;

create table if not exists delivery.ledger (
    period date not null,
    kind varchar not null,          -- scorecard, data_notice, failure_notice
    list_id varchar not null,
    recipient varchar not null,     -- the envelope address
    message_id varchar not null,
    report_sha256 varchar,          -- sha256 of the attached PDF (scorecard emails)
    transport varchar not null,     -- smtp, outbox
    state varchar not null,         -- claimed, sent, failed
    attempts integer not null,
    resend boolean not null,        -- a deliberate resend of an already delivered email
    error varchar,
    outbox_path varchar,
    run_id varchar not null,        -- the delivering run (failure notices: the failed run)
    claimed_at timestamp not null,
    finished_at timestamp,
    provisional boolean,            -- a scorecard sent while the month was incomplete
    primary key (message_id, recipient)
);

-- Ledgers made before provisional sends were told apart (their rows: not known, so not resent).
alter table delivery.ledger add column if not exists provisional boolean;

-- Data quality (issue 4): every expectation of every source table, per month and run. Runs are
-- kept for audits; the latest check of a month and table is the one that counts (the views).
create schema if not exists quality;

create table if not exists quality.expectation_results (
    period date not null,
    table_key varchar not null,
    position integer not null,          -- the expectation's place in the table's list
    expectation varchar not null,       -- a Great Expectations name, or a project check
    label varchar not null,             -- name(column), as the report shows it
    kwargs json not null,
    severity varchar not null,          -- error, warning
    outcome varchar not null,           -- passed, failed, errored
    observed_value json,
    unexpected_count bigint,
    element_count bigint,
    sample_rows json,                   -- a few offending rows
    message varchar,                    -- what failed, or the exception of an errored one
    run_id varchar not null,
    checked_at timestamp not null,
    primary key (run_id, period, table_key, position)
);

create table if not exists quality.table_results (
    period date not null,
    table_key varchar not null,
    rows_checked bigint not null,
    rows_rejected bigint not null,      -- rows the load left out (within max_reject_rate)
    checks_run integer not null,
    checks_passed integer not null,
    checks_warned integer not null,     -- failed, severity warning
    checks_failed integer not null,     -- failed or errored, severity error
    checks_errored integer not null,    -- raised instead of answering (counted as failed)
    status varchar not null,            -- passed, warned, failed
    latest_record timestamp,            -- the month's latest date_column value
    lag_days integer,                   -- days from it to the month's last day
    run_id varchar not null,
    checked_at timestamp not null,
    primary key (run_id, period, table_key)
);

create view if not exists quality.latest_table_results as
select * from quality.table_results
qualify row_number() over (partition by period, table_key order by checked_at desc) = 1;

create view if not exists quality.latest_expectation_results as
select r.* from quality.expectation_results r
join quality.latest_table_results t using (run_id, period, table_key);

-- A month is complete when no source table failed an error-level check in its latest check.
create view if not exists quality.month_status as
select period,
       count(*) as tables_checked,
       count(*) filter (where status = 'failed') as tables_failed,
       count(*) filter (where rows_checked = 0) as tables_empty,
       count(*) filter (where status = 'failed') = 0 as complete
from quality.latest_table_results
group by period;
