"""Settings read from the environment, refused at start-up when wrong."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

ENVIRONMENTS = ("development", "production", "test")
SCHEDULER_MODES = ("embedded", "external", "off")
MAIL_BACKENDS = ("log", "smtp")
ASYNC_MODES = ("threading", "gevent", "auto")
WEB_PUSH_DELIVERIES = ("background", "off")
CHANNEL_DELIVERIES = ("background", "off")
ATTACHMENT_STORAGES = ("local", "s3")
GRAPH_BASE = "https://graph.facebook.com/v26.0"  # Meta's current Graph API version (July 2026)
# What py_vapid accepts as the JWT `sub`: a mailto: address or a bare https:// origin.
VAPID_SUBJECT_PATTERN = re.compile(r"^(mailto:[^@\s]+@|https://)(localhost|[\w-]+(\.[\w-]+)+)$")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it and says what is expected."""


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _int(name: str, raw: str, minimum: int = 0) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def _engine_options(env: Mapping[str, str], database_url: str) -> dict[str, Any]:
    """The connection pool: a gevent process serves hundreds of sockets, each event a short transaction, so it keeps
    DATABASE_POOL_SIZE connections open and opens up to DATABASE_MAX_OVERFLOW more in a burst (closed again once
    returned: each new one is a server process forked on PostgreSQL). A database in memory keeps SQLAlchemy's own
    pool, which holds one connection."""
    size = _int("DATABASE_POOL_SIZE", env.get("DATABASE_POOL_SIZE", "10"), 1)
    overflow = _int("DATABASE_MAX_OVERFLOW", env.get("DATABASE_MAX_OVERFLOW", "5"))
    if sa.engine.make_url(database_url).database in (None, "", ":memory:"):
        return {}
    return {"pool_size": size, "max_overflow": overflow}


def _choice(name: str, raw: str, choices: tuple[str, ...]) -> str:
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
    return raw


def _url(name: str, raw: str, schemes: tuple[str, ...]) -> str:
    scheme = urlsplit(raw).scheme.split("+")[0]
    if scheme not in schemes:
        raise ConfigError(f"{name} must be a URL starting with {' or '.join(schemes)}://, not {raw!r}")
    return raw


def _sqlalchemy_url(raw: str) -> str:
    """Pick psycopg 3 for plain postgres URLs, since it is the driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def _vapid_subject(raw: str) -> str:
    if not VAPID_SUBJECT_PATTERN.match(raw):
        raise ConfigError(
            f"VAPID_SUBJECT must be mailto:<address> or https://<host> (push services write there), not {raw!r}"
        )
    return raw


def _demo_secret(instance_path: Path) -> str:
    """Keep one random key per instance folder so demo sessions survive a restart."""
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def is_production(config: Mapping[str, Any]) -> bool:
    """Whether the app runs in production (MARKETPLACE_ENV=production), where demo data must never go."""
    return config.get("ENV_NAME") == "production"


def load_config(instance_path: Path, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask config from environment variables, refusing bad values."""
    env = dict(os.environ if environ is None else environ)
    get = env.get

    environment = _choice("MARKETPLACE_ENV", get("MARKETPLACE_ENV", "development"), ENVIRONMENTS)
    secret = get("SECRET_KEY", "")
    if environment == "production":
        if len(secret) < 32:
            raise ConfigError(
                "SECRET_KEY is required in production and must be at least 32 characters "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
    elif not secret:
        secret = _demo_secret(instance_path)

    database_url = get("DATABASE_URL") or f"sqlite:///{instance_path / 'marketplace.db'}"
    database_url = _sqlalchemy_url(_url("DATABASE_URL", database_url, ("sqlite", "postgresql", "postgres")))

    engine_options = _engine_options(env, database_url)

    default_mail = "smtp" if environment == "production" else "log"
    mail_backend = _choice("MAIL_BACKEND", get("MAIL_BACKEND", default_mail), MAIL_BACKENDS)
    if mail_backend == "smtp" and not get("SMTP_HOST"):
        raise ConfigError("SMTP_HOST is required when MAIL_BACKEND is smtp")

    message_queue = get("SOCKETIO_MESSAGE_QUEUE") or None
    if message_queue:
        _url("SOCKETIO_MESSAGE_QUEUE", message_queue, ("redis", "rediss"))
    ratelimit_storage = get("RATELIMIT_STORAGE_URI", "memory://")
    _url("RATELIMIT_STORAGE_URI", ratelimit_storage, ("memory", "redis", "rediss"))

    attachment_storage = _choice("ATTACHMENT_STORAGE", get("ATTACHMENT_STORAGE", "local"), ATTACHMENT_STORAGES)
    if attachment_storage == "s3" and not get("ATTACHMENT_S3_BUCKET"):
        raise ConfigError("ATTACHMENT_S3_BUCKET is required when ATTACHMENT_STORAGE is s3")
    s3_endpoint = get("ATTACHMENT_S3_ENDPOINT_URL") or None
    if s3_endpoint:
        _url("ATTACHMENT_S3_ENDPOINT_URL", s3_endpoint, ("http", "https"))
    clamd_address = get("CLAMD_ADDRESS", "").strip()
    if clamd_address and not re.fullmatch(r"[\w.\-]+:\d{1,5}|\[[0-9A-Fa-f:.]+\]:\d{1,5}", clamd_address):
        raise ConfigError(f"CLAMD_ADDRESS must be host:port, not {clamd_address!r}")

    reply_domain = get("MAIL_REPLY_DOMAIN", "").strip().lower()
    if reply_domain and not re.fullmatch(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9-]{1,63}",
                                         reply_domain):
        raise ConfigError(f"MAIL_REPLY_DOMAIN must be a domain name, not {reply_domain!r}")
    inbound_secret = get("INBOUND_MAIL_SECRET", "").strip()
    if inbound_secret and len(inbound_secret) < 24:
        raise ConfigError("INBOUND_MAIL_SECRET must be at least 24 characters when set")

    secure_cookies = _bool("SESSION_COOKIE_SECURE", get("SESSION_COOKIE_SECURE", str(environment == "production")))

    return {
        "ENV_NAME": environment,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "DATABASE_PING_IDLE_SECONDS": _int("DATABASE_PING_IDLE_SECONDS", get("DATABASE_PING_IDLE_SECONDS", "10")),
        "PUBLIC_URL": get("PUBLIC_URL", "").rstrip("/"),
        # Sessions: cookies only over HTTPS in production, never readable by scripts.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": _int("SESSION_LIFETIME_HOURS", get("SESSION_LIFETIME_HOURS", "336"), 1) * 3600,
        # No request is larger than this (413): a chat message, a form or a JSON body is a few kilobytes.
        "MAX_CONTENT_LENGTH": _int("MAX_REQUEST_BYTES", get("MAX_REQUEST_BYTES", str(1024 * 1024)), 1024),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "WTF_CSRF_SSL_STRICT": secure_cookies,
        "RATELIMIT_STORAGE_URI": ratelimit_storage,
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", get("RATELIMIT_ENABLED", "true")),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": get("LOGIN_RATE_LIMIT", "10 per 5 minutes"),
        "PASSWORD_RESET_MAX_AGE": _int("PASSWORD_RESET_MAX_AGE", get("PASSWORD_RESET_MAX_AGE", "3600"), 60),
        "MAIL_BACKEND": mail_backend,
        "MAIL_FROM": get("MAIL_FROM", "Marketplace <no-reply@marketplace.localhost>"),
        "SMTP_HOST": get("SMTP_HOST", ""),
        "SMTP_PORT": _int("SMTP_PORT", get("SMTP_PORT", "587"), 1),
        "SMTP_USERNAME": get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _bool("SMTP_STARTTLS", get("SMTP_STARTTLS", "true")),
        # E-mail continuation: replies to an away visitor go out as one e-mail per conversation per digest
        # window, with Reply-To reply+<token>@MAIL_REPLY_DOMAIN (none without a domain) and a resume link; mail
        # to that domain comes back through `marketplace mail-in` or POST /api/v1/inbound-mail with the secret.
        "MAIL_REPLY_DOMAIN": reply_domain,
        "INBOUND_MAIL_SECRET": inbound_secret,
        "CONTINUATION_DIGEST_SECONDS": _int(
            "CONTINUATION_DIGEST_SECONDS", get("CONTINUATION_DIGEST_SECONDS", "120"), 0),
        "CONTINUATION_REPLY_TOKEN_DAYS": _int(
            "CONTINUATION_REPLY_TOKEN_DAYS", get("CONTINUATION_REPLY_TOKEN_DAYS", "30"), 1),
        "CONTINUATION_RESUME_TOKEN_HOURS": _int(
            "CONTINUATION_RESUME_TOKEN_HOURS", get("CONTINUATION_RESUME_TOKEN_HOURS", "168"), 1),
        "SOCKETIO_MESSAGE_QUEUE": message_queue,
        # "auto" lets Flask-SocketIO pick gevent under `gunicorn -k gevent`; threading serves the default.
        "SOCKETIO_ASYNC_MODE": _choice("SOCKETIO_ASYNC_MODE", get("SOCKETIO_ASYNC_MODE", "threading"), ASYNC_MODES),
        "SCHEDULER_MODE": _choice("SCHEDULER_MODE", get("SCHEDULER_MODE", "embedded"), SCHEDULER_MODES),
        # The scheduler's lease, renewed every third of it: a standby or restarted scheduler takes over this
        # long after the holder dies. Below 3 s a pause of the database or of the process would flap it.
        "SCHEDULER_LEASE_SECONDS": _int("SCHEDULER_LEASE_SECONDS", get("SCHEDULER_LEASE_SECONDS", "6"), 3),
        # A phone in the background sends no heartbeat for a while: it is `away` only after this grace,
        # and `offline` only after the longer wait, so a quick look at another app does not flap.
        "PRESENCE_GRACE_SECONDS": _int("PRESENCE_GRACE_SECONDS", get("PRESENCE_GRACE_SECONDS", "90"), 10),
        "PRESENCE_OFFLINE_AFTER_MINUTES": _int(
            "PRESENCE_OFFLINE_AFTER_MINUTES", get("PRESENCE_OFFLINE_AFTER_MINUTES", "20"), 1),
        "PRESENCE_MISSED_OFFERS_AWAY": _int(
            "PRESENCE_MISSED_OFFERS_AWAY", get("PRESENCE_MISSED_OFFERS_AWAY", "3"), 1),
        # Shifts: booking and cancelling close this long before the start, so brands can count on the seats.
        "SHIFT_BOOKING_CUTOFF_MINUTES": _int(
            "SHIFT_BOOKING_CUTOFF_MINUTES", get("SHIFT_BOOKING_CUTOFF_MINUTES", "60"), 0),
        "SHIFT_REMINDER_MINUTES": _int("SHIFT_REMINDER_MINUTES", get("SHIFT_REMINDER_MINUTES", "30"), 1),
        # Conversations: a waiting visitor whose page has not been seen for this long has left (the
        # widget checks in every 15 s, and a move to another page of the site reconnects in a second).
        "VISITOR_GRACE_SECONDS": _int("VISITOR_GRACE_SECONDS", get("VISITOR_GRACE_SECONDS", "60"), 20),
        # How often the scheduler expires offers and re-routes as a safety net (events route at once).
        "ROUTING_SWEEP_SECONDS": _int("ROUTING_SWEEP_SECONDS", get("ROUTING_SWEEP_SECONDS", "2"), 1),
        # Capacity planner: how far ahead the scaling loop looks, how long an invitation may be answered,
        # how long an expert who accepts is asked to stay, and the handle time of a brand without history.
        "CAPACITY_LEAD_MINUTES": _int("CAPACITY_LEAD_MINUTES", get("CAPACITY_LEAD_MINUTES", "15"), 0),
        "CAPACITY_INVITATION_MINUTES": _int(
            "CAPACITY_INVITATION_MINUTES", get("CAPACITY_INVITATION_MINUTES", "5"), 1),
        "CAPACITY_REINVITE_MINUTES": _int("CAPACITY_REINVITE_MINUTES", get("CAPACITY_REINVITE_MINUTES", "30"), 0),
        "CAPACITY_WINDOW_MINUTES": _int("CAPACITY_WINDOW_MINUTES", get("CAPACITY_WINDOW_MINUTES", "60"), 15),
        "CAPACITY_DEFAULT_HANDLE_SECONDS": _int(
            "CAPACITY_DEFAULT_HANDLE_SECONDS", get("CAPACITY_DEFAULT_HANDLE_SECONDS", "420"), 30),
        "CAPACITY_FORECAST_DAYS": 7,
        # Payouts: how long earnings are held before they become payable (disputes, fraud checks), and how
        # long after a chat closes it is earned (the visitor's rating decides a rating bonus).
        "PAYOUT_HOLD_DAYS": _int("PAYOUT_HOLD_DAYS", get("PAYOUT_HOLD_DAYS", "14"), 0),
        # The weekday finance runs payout batches (0 Monday ... 6 Sunday): what experts are told to expect.
        "PAYOUT_WEEKDAY": _int("PAYOUT_WEEKDAY", get("PAYOUT_WEEKDAY", "0"), 0),
        "PAYOUT_RATING_GRACE_MINUTES": _int(
            "PAYOUT_RATING_GRACE_MINUTES", get("PAYOUT_RATING_GRACE_MINUTES", "10"), 0),
        # Stripe Connect: the secret key, the API's base address (a Stripe-compatible server in tests) and
        # the webhook endpoint's signing secret. Without a key, experts are paid by SEPA transfer only.
        "STRIPE_API_KEY": get("STRIPE_API_KEY", "").strip(),
        "STRIPE_API_BASE": _url("STRIPE_API_BASE", get("STRIPE_API_BASE", "https://api.stripe.com"),
                                ("http", "https")),
        "STRIPE_WEBHOOK_SECRET": get("STRIPE_WEBHOOK_SECRET", "").strip(),
        "STRIPE_TIMEOUT_SECONDS": _int("STRIPE_TIMEOUT_SECONDS", get("STRIPE_TIMEOUT_SECONDS", "20"), 1),
        # Messaging channels: Meta's Graph API (WhatsApp Cloud API, Messenger Send API), each base address with its
        # version; tests and the demo point them at the Meta-compatible fake server under tests/.
        "WHATSAPP_GRAPH_BASE": _url("WHATSAPP_GRAPH_BASE", get("WHATSAPP_GRAPH_BASE", GRAPH_BASE), ("http", "https")
                                    ).rstrip("/"),
        "MESSENGER_GRAPH_BASE": _url("MESSENGER_GRAPH_BASE", get("MESSENGER_GRAPH_BASE", GRAPH_BASE),
                                     ("http", "https")).rstrip("/"),
        "GRAPH_TIMEOUT_SECONDS": _int("GRAPH_TIMEOUT_SECONDS", get("GRAPH_TIMEOUT_SECONDS", "10"), 1),
        # An expert's message to a messaging app goes out in the background once stored ("off": only the
        # scheduler's sweep sends, every few seconds; tests send it themselves). A customer who writes counts as
        # present (holding their expert's live slot) this long after their last message, then the chat goes
        # asynchronous until they write again.
        "CHANNEL_DELIVERY": _choice("CHANNEL_DELIVERY", get("CHANNEL_DELIVERY", "background"), CHANNEL_DELIVERIES),
        "CHANNEL_PRESENCE_SECONDS": _int("CHANNEL_PRESENCE_SECONDS", get("CHANNEL_PRESENCE_SECONDS", "300"), 20),
        # Who pays and invoices: the platform's legal identity on statements, invoices and SEPA files.
        "PLATFORM_LEGAL_NAME": get("PLATFORM_LEGAL_NAME", "Marketplace SAS"),
        "PLATFORM_ADDRESS": get("PLATFORM_ADDRESS", "10 rue de la Paix, 75002 Paris, France"),
        "PLATFORM_SIRET": get("PLATFORM_SIRET", "48123456500002"),
        "PLATFORM_VAT_NUMBER": get("PLATFORM_VAT_NUMBER", "FR36481234565"),
        "PLATFORM_VAT_BPS": _int("PLATFORM_VAT_BPS", get("PLATFORM_VAT_BPS", "2000"), 0),
        "SEPA_DEBTOR_IBAN": get("SEPA_DEBTOR_IBAN", "FR7630006000011234567890189"),
        "SEPA_DEBTOR_BIC": get("SEPA_DEBTOR_BIC", "AGRIFRPP"),
        # Web Push: the VAPID key is created in the instance folder on first start when not given here.
        "VAPID_PRIVATE_KEY": get("VAPID_PRIVATE_KEY", "").strip(),
        "VAPID_SUBJECT": _vapid_subject(get("VAPID_SUBJECT", "mailto:ops@marketplace.localhost")),
        "WEB_PUSH_DELIVERY": _choice("WEB_PUSH_DELIVERY", get("WEB_PUSH_DELIVERY", "background"),
                                     WEB_PUSH_DELIVERIES),
        # Attachments: where the files are kept (a folder, or S3-compatible storage with the standard AWS
        # credentials from the environment), how long a download link works, and the ClamAV daemon that scans
        # every file when one is set (a UNIX socket, or host:port).
        "ATTACHMENT_STORAGE": attachment_storage,
        "ATTACHMENT_FOLDER": get("ATTACHMENT_FOLDER", str(instance_path / "attachments")),
        "ATTACHMENT_S3_BUCKET": get("ATTACHMENT_S3_BUCKET", ""),
        "ATTACHMENT_S3_ENDPOINT_URL": s3_endpoint,
        "ATTACHMENT_LINK_SECONDS": _int("ATTACHMENT_LINK_SECONDS", get("ATTACHMENT_LINK_SECONDS", "300"), 10),
        "CLAMD_SOCKET": get("CLAMD_SOCKET", "").strip(),
        "CLAMD_ADDRESS": clamd_address,
        "CLAMD_TIMEOUT_SECONDS": _int("CLAMD_TIMEOUT_SECONDS", get("CLAMD_TIMEOUT_SECONDS", "30"), 1),
        "VENDOR_DIR": get("VENDOR_DIR", str(Path(__file__).resolve().parent.parent / "node_modules")),
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        "LANGUAGES": ("en", "fr"),
    }
