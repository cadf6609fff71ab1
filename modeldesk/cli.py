"""The `modeldesk` command: serve | worker | db upgrade | db seed | token | prices.

Output meant for people goes to stdout through `print`, since it *is* the
program's interface here; everything else is logged.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence

from modeldesk.auth import create_token, first_admin_sign_in_code, list_tokens, revoke_token
from modeldesk.config import ConfigurationError, Settings, load_settings
from modeldesk.context import AppContext, open_context
from modeldesk.db.seed import count_catalog, seed_catalog
from modeldesk.enums import Role
from modeldesk.errors import ModeldeskError, ValidationError
from modeldesk.log_format import configure_logging
from modeldesk.queue.metrics_server import DEFAULT_METRICS_HOST

logger = logging.getLogger("modeldesk")

Command = Callable[[AppContext], Awaitable[None]]


async def _with_context(settings: Settings, work: Command) -> None:
    context = await open_context(settings)
    try:
        await work(context)
    finally:
        await context.close()


async def _cmd_db_upgrade(context: AppContext) -> None:
    print("database is at the latest migration")


async def _cmd_db_seed(context: AppContext) -> None:
    added = await seed_catalog(context.db)
    providers, models = await count_catalog(context.db)
    print(f"seed added {added} rows; catalogue has {providers} providers and {models} models")


def _cmd_token_create(role: str, name: str | None) -> Command:
    async def run(context: AppContext) -> None:
        row, plain = await create_token(context.db, role=role, name=name or f"{role} token")
        print(f"created {row.role} token #{row.id} ({row.name}); it is shown only once:")
        print(plain)

    return run


async def _cmd_token_list(context: AppContext) -> None:
    for row in await list_tokens(context.db):
        state = "revoked" if row.revoked_at else "active"
        print(f"#{row.id}\t{row.role}\t{state}\t{row.token_prefix}…\t{row.name}")


def _cmd_token_revoke(token_id: int) -> Command:
    async def run(context: AppContext) -> None:
        row = await revoke_token(context.db, token_id)
        print(f"revoked token #{row.id} ({row.name})")

    return run


def _cmd_serve(host: str, port: int, with_worker: bool, demo: bool) -> Command:
    async def run(context: AppContext) -> None:
        from modeldesk.server import serve

        await seed_catalog(context.db)
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        simulator = None
        if demo:
            from modeldesk.demo import start_demo_simulator

            simulator = await start_demo_simulator()
        try:
            if simulator is not None:
                from modeldesk.demo import DEMO_DEFINITION, DEMO_PROVIDER, install_demo

                await install_demo(context.db, simulator.url)
                print(
                    f"Demo: provider {DEMO_PROVIDER} is the built-in simulator ({simulator.url}),"
                    f" no API key needed. Start a run of {DEMO_DEFINITION!r} at"
                    f" http://{shown_host}:{port}/runs/new",
                    flush=True,
                )
            code = await first_admin_sign_in_code(context.db)
            if code is not None:
                print("No admin token existed, so one was created. Sign in within 15 minutes at:")
                print(f"    http://{shown_host}:{port}/login?code={code}", flush=True)
                print("(The link works once. For API tokens: modeldesk token create --role admin)")
            await serve(context, host=host, port=port, with_worker=with_worker)
        finally:
            if simulator is not None:
                await asyncio.to_thread(simulator.stop)

    return run


def _cmd_worker(metrics_host: str, metrics_port: int | None) -> Command:
    async def run(context: AppContext) -> None:
        from modeldesk.queue.metrics_server import serving_process_metrics
        from modeldesk.queue.worker import run_worker

        if metrics_port is None:
            await run_worker(context)
            return
        with serving_process_metrics(metrics_host, metrics_port):
            await run_worker(context)

    return run


def _cmd_prices(args: argparse.Namespace) -> Command:
    async def run(context: AppContext) -> None:
        from modeldesk import cli_prices

        if args.prices_command == "check":
            lines = await cli_prices.prices_check(context)
        elif args.all == bool(args.models):
            raise ValidationError("Name models as provider/model_id, or give --all (not both).")
        else:
            lines = await cli_prices.prices_apply(context, args.all, args.models)
        print("\n".join(lines))

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="modeldesk", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API and web UI (and one worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-worker", action="store_true", help="do not run an in-process worker")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="add the built-in provider simulator as provider simlab, with a sample definition"
        " (its calls are made by this process's worker)",
    )

    worker = commands.add_parser("worker", help="run a standalone worker")
    worker.add_argument(
        "--metrics-port", type=int, help="serve this worker's Prometheus counters on this port"
    )
    worker.add_argument(
        "--metrics-host", default=DEFAULT_METRICS_HOST, help="address for --metrics-port"
    )

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply migrations (idempotent)")
    db_commands.add_parser("seed", help="insert the seed catalogue (idempotent)")

    token = commands.add_parser("token", help="API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token; prints it on the last line")
    create.add_argument("--role", choices=[role.value for role in Role], required=True)
    create.add_argument("--name")
    token_commands.add_parser("list", help="list tokens")
    revoke = token_commands.add_parser("revoke", help="revoke a token")
    revoke.add_argument("token_id", type=int)

    prices = commands.add_parser("prices", help="price proposals from the reference prices")
    prices_commands = prices.add_subparsers(dest="prices_command", required=True)
    prices_commands.add_parser("check", help="print where prices differ from the reference")
    apply = prices_commands.add_parser("apply", help="apply price proposals")
    apply.add_argument("--all", action="store_true", help="apply every proposal")
    apply.add_argument("models", nargs="*", metavar="provider/model_id")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        # A usage error like argparse's own (exit 2): one line, no traceback.
        print(f"modeldesk: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)
    work: Command
    if args.command == "serve":
        work = _cmd_serve(args.host, args.port, not args.no_worker, args.demo)
        if args.demo:
            from modeldesk.demo import demo_settings

            settings = demo_settings(settings)
    elif args.command == "worker":
        work = _cmd_worker(args.metrics_host, args.metrics_port)
    elif args.command == "db":
        work = _cmd_db_upgrade if args.db_command == "upgrade" else _cmd_db_seed
    elif args.command == "prices":
        work = _cmd_prices(args)
    elif args.token_command == "create":
        work = _cmd_token_create(args.role, args.name)
    elif args.token_command == "list":
        work = _cmd_token_list
    else:
        work = _cmd_token_revoke(args.token_id)
    try:
        asyncio.run(_with_context(settings, work))
    except ModeldeskError as exc:
        print(f"error: {exc.message} ({exc.code})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
