"""The `marketplace` command: serve, scheduler, mail-in, create-user, retention, simulate, and Flask-Migrate's `db`."""

from __future__ import annotations

import logging
import os
import signal
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import WSGIRequestHandler

from marketplace import create_app, settle_heap
from marketplace.capacity.simulation_cli import simulate
from marketplace.config import ConfigError, is_production
from marketplace.errors import DomainError
from marketplace.faq.cli import faq


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), load_dotenv=False, add_default_commands=False,
             set_debug_flag=False)
def cli() -> None:
    """Run and manage the expert-network marketplace."""


cli.add_command(simulate)  # no app context: it needs no database
cli.add_command(faq)  # `faq evaluate` opens the app context itself; `faq calibrate` needs none


def _upgrade_database() -> None:
    from flask_migrate import upgrade

    upgrade()


class QuietRequestHandler(WSGIRequestHandler):
    """The built-in server's handler, naming no software versions in the Server header."""

    def version_string(self) -> str:
        return "marketplace"


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--demo", is_flag=True, help="Seed demo brands, experts and staff, and print their logins.")
@with_appcontext
def serve(host: str, port: int, demo: bool) -> None:
    """Apply migrations and serve the app (with the scheduler, unless SCHEDULER_MODE says otherwise)."""
    from marketplace.extensions import socketio
    from marketplace.scheduler import LeasedScheduler

    app = current_app._get_current_object()
    if demo and is_production(app.config):
        from marketplace.demo import REFUSED_IN_PRODUCTION

        raise click.ClickException(REFUSED_IN_PRODUCTION)  # before anything is written: exit status 1
    _upgrade_database()
    logins = []
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - only for display
    base_url = f"http://{shown_host}:{port}"
    messaging_apps: list[str] = []
    if demo:
        from marketplace import demo_faults, demo_whatsapp
        from marketplace.demo import seed

        logins = seed()
        demo_faults.install(app)
        messaging_apps = [demo_whatsapp.start(app, f"{base_url}/webhooks/whatsapp"),
                          demo_whatsapp.start_messenger(app, f"{base_url}/webhooks/messenger")]
    click.echo(f"\nMarketplace is running at {base_url}/")
    if logins:
        click.echo(f"Demo logins (password for all: {logins[0].password}):")
        for login in logins:
            click.echo(f"  {login.role:<28} {login.email}")
    for line in messaging_apps:
        click.echo(line)
    if "dev_mail" in app.blueprints:
        click.echo(f"Mails sent (development only, newest first): {base_url}/dev/mail")
    click.echo("Press Ctrl+C to stop.\n", nl=True)
    sys.stdout.flush()
    # What a person serving follows: mails, warnings and errors; not each request nor each scheduler run.
    for chatty in ("werkzeug", "apscheduler"):
        logging.getLogger(chatty).setLevel(logging.WARNING)

    scheduler = LeasedScheduler(app) if app.config["SCHEDULER_MODE"] == "embedded" else None
    if scheduler is not None:
        scheduler.start()
    os.environ.pop("FLASK_RUN_FROM_CLI", None)  # else Flask refuses to serve from inside a CLI command
    settle_heap()
    try:
        socketio.run(app, host=host, port=port, use_reloader=False, log_output=False,
                     allow_unsafe_werkzeug=True, request_handler=QuietRequestHandler)
    finally:
        if scheduler is not None:
            scheduler.shutdown()
        if demo:
            from marketplace import demo_whatsapp

            demo_whatsapp.stop(app)


@cli.command()
@with_appcontext
def scheduler() -> None:
    """Run the scheduled jobs in this process (for deployments with several web processes)."""
    from marketplace.scheduler import LeasedScheduler

    runner = LeasedScheduler(current_app._get_current_object(), blocking=True)

    def stop(signum, frame):  # noqa: ARG001 - signal handler signature
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    click.echo(f"Scheduler {runner.holder} starting; Ctrl+C to stop.")
    settle_heap()
    try:
        runner.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        runner.shutdown()
        click.echo("Scheduler stopped; lease released.")


@cli.command("mail-in")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=2525, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@with_appcontext
def mail_in(host: str, port: int) -> None:
    """Receive visitors' replies by e-mail over SMTP (MAIL_REPLY_DOMAIN's MX points here)."""
    from marketplace.routing.continuation.smtp_in import controller

    app = current_app._get_current_object()
    if not app.config["MAIL_REPLY_DOMAIN"]:
        raise click.ClickException("Set MAIL_REPLY_DOMAIN: the receiver takes mail for reply+...@that domain only.")
    receiver = controller(app, host, port)

    def stop(signum, frame):  # noqa: ARG001 - signal handler signature
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    receiver.start()
    click.echo(f"Receiving mail for reply+...@{app.config['MAIL_REPLY_DOMAIN']} on {host}:{port}; Ctrl+C to stop.")
    sys.stdout.flush()
    try:
        signal.pause()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        receiver.stop()
        click.echo("Mail receiver stopped.")


@cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True, help="Full name.")
@click.option("--role", required=True, type=click.Choice(["expert", "brand", "finance", "ops"]))
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--brand", "brand_slug", help="With --role brand: the brand's short name to join.")
@click.option("--brand-role", type=click.Choice(["admin", "viewer"]), default="admin", show_default=True)
@with_appcontext
def create_user(email: str, full_name: str, role: str, password: str, brand_slug: str | None,
                brand_role: str) -> None:
    """Create an account; brand accounts can join a brand at once."""
    from marketplace.accounts import services as accounts
    from marketplace.accounts.models import Role
    from marketplace.brands import services as brands
    from marketplace.brands.models import BrandRole
    from marketplace.experts import services as experts

    if brand_slug and role != "brand":
        raise click.BadParameter("only brand accounts join a brand", param_hint="--brand")
    try:
        brand_id = brands.brand_id_for_slug(brand_slug) if brand_slug else None
        if role == "expert":
            user = experts.sign_up_expert(email, password, full_name)
        else:
            user = accounts.create_user(email, password, full_name, Role(role), actor=None)
        if brand_id is not None:
            brands.add_member(None, brand_id, user.id, BrandRole(brand_role))
    except DomainError as error:
        raise click.BadParameter(str(error.message), param_hint=f"--{error.field or 'email'}") from None
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@cli.command("retention")
@with_appcontext
def retention() -> None:
    """Anonymise now what each brand's retention period no longer lets us keep (the scheduler does it hourly)."""
    from marketplace.routing.retention.services import anonymise_expired

    done = anonymise_expired()
    click.echo(f"Anonymised {done['conversations']} conversations, deleted {done['files']} files, "
               f"{done['contacts']} contacts and {done['left_messages']} left messages.")


def main() -> None:
    try:
        cli.main(prog_name="marketplace")
    except ConfigError as error:
        click.echo(f"Configuration error: {error}", err=True)
        sys.exit(2)
