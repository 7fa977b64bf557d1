"""The demo's source switches: `scorecard demo-postgres` and `scorecard demo-api`.

They put the demo exports behind a real PostgreSQL database and a real HTTP API, so the example
sources under definitions/examples/ (crm_postgres.yaml, hr_api.yaml) can replace the file ones.
"""

from __future__ import annotations

import os
import sys

import psycopg
import yaml

from pipelines.catalog.models import SourceFile
from pipelines.settings import PROJECT_ROOT, RuntimePaths

EXAMPLES = PROJECT_ROOT / "definitions" / "examples"


def example_source(name: str) -> SourceFile:
    """A source definition shipped under definitions/examples/."""
    return SourceFile.model_validate(yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8")))


def cmd_demo_postgres(args, paths: RuntimePaths) -> int:
    """Copy the demo CRM exports into the PostgreSQL database named by an environment variable."""
    from pipelines.demo.postgres_seed import seed_postgres
    from pipelines.ingest.postgres import PostgresSettings

    url = os.environ.get(args.url_env)
    if not url:
        print(
            f"scorecard demo-postgres: set {args.url_env} to a postgresql:// URL first",
            file=sys.stderr,
        )
        return 2
    try:
        counts = seed_postgres(url, example_source("crm_postgres.yaml"), paths.demo / "crm")
    except (OSError, psycopg.Error) as exc:
        # the connector's redactor: the URL, its password, and any piece of it a client echoes
        redact = PostgresSettings(url=url, origin=f"${args.url_env}").redactor()
        print(f"scorecard demo-postgres: {redact(exc)}", file=sys.stderr)
        return 1
    for relation, rows in counts.items():
        print(f"  {relation}: {rows:,} rows")
    print(
        "Switch the CRM source with: cp definitions/examples/crm_postgres.yaml "
        "<your definitions>/sources/crm.yaml (see docs/sources.md)"
    )
    return 0


def cmd_demo_api(args, paths: RuntimePaths) -> int:
    """Serve the demo HR exports as a paginated JSON API until interrupted."""
    from pipelines.demo.api_server import demo_api, make_server

    token = os.environ.get(args.token_env)
    if not token:
        print(
            f"scorecard demo-api: set {args.token_env} to the token clients must send",
            file=sys.stderr,
        )
        return 2
    try:
        api = demo_api(paths.demo / "hr", example_source("hr_api.yaml").tables, token)
    except FileNotFoundError as exc:
        print(f"scorecard demo-api: {exc}", file=sys.stderr)
        return 1
    server = make_server(api, args.host, args.port)
    print(
        f"Serving {', '.join(sorted(api.datasets))} at http://{args.host}:{args.port}/v1/ "
        f"(bearer token from ${args.token_env}); Ctrl-C stops it.",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def add_demo_source_commands(commands) -> None:
    """Register demo-postgres and demo-api on the `scorecard` sub-command parser."""
    pg = commands.add_parser(
        "demo-postgres", help="copy the demo CRM exports into a PostgreSQL database"
    )
    pg.add_argument(
        "--url-env",
        default="CRM_DATABASE_URL",
        help="environment variable holding the database URL (default CRM_DATABASE_URL)",
    )
    pg.set_defaults(func=cmd_demo_postgres)
    api = commands.add_parser("demo-api", help="serve the demo HR exports as a paginated JSON API")
    api.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    api.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    api.add_argument(
        "--token-env",
        default="HR_API_TOKEN",
        help="environment variable holding the bearer token (default HR_API_TOKEN)",
    )
    api.set_defaults(func=cmd_demo_api)
