"""Registration with e-mail confirmation (security issue 9, ``registration_confirmation``).

With confirmation on, ``POST /auth/register`` must not tell whether an address has an account. Both
outcomes answer alike and do comparable work (the Argon2 hash, one row or job written, one mail
queued)::

    register {name, email, password}
      ├─ check name, address format, password           (errors as before: 422, 409 name_taken)
      ├─ address free   → PendingRegistration + mail "register_confirm" (the link)
      └─ address taken  → mail "register_existing" to the account ("just log in")
    confirm {token}
      └─ the pending row → do_create_account (name and address checked again) → session

The token is ``<pending id>.<signature>``: an HMAC (``settings.secret``) over the row's id, address
and creation time. It is never stored; the mail job recomputes it when it sends the mail, and
``check_confirmation`` when it comes back. A used link finds no row (the row is deleted when the
account is created), an expired one is refused, so neither can be replayed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from parley.accounts import passwords, services
from parley.accounts.errors import ConfirmationInvalid
from parley.accounts.models import Account, PendingRegistration
from parley.errors import ValidationFailed
from parley.security import sign, verify

PENDING_LIFETIME = timedelta(hours=24)
_PURPOSE = "register"


def _signed_part(pending: PendingRegistration) -> bytes:
    created = pending.created_at.astimezone(UTC).isoformat(timespec="seconds")
    return f"{pending.id}:{pending.email_normalized}:{created}".encode()


def confirmation_token(secret: bytes, pending: PendingRegistration) -> str:
    return f"{pending.id}.{sign(secret, _PURPOSE, _signed_part(pending))}"


def confirmation_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/account/confirm?token={token}"


def access_pending(session: Session, secret: bytes, token: str, now: datetime) -> PendingRegistration:
    """The pending registration a confirmation token names; :class:`ConfirmationInvalid` when the
    token is malformed, forged, expired or used (one answer for all: nothing to tell apart)."""
    id_part, dot, signature = token.partition(".")
    if not dot or not (id_part.isascii() and id_part.isdigit()) or len(id_part) > 16:
        raise ConfirmationInvalid()
    pending = session.get(PendingRegistration, int(id_part))
    if pending is None or not verify(secret, _PURPOSE, _signed_part(pending), signature):
        raise ConfirmationInvalid()
    if pending.expires_at <= now:
        raise ConfirmationInvalid(context={"pending_id": pending.id, "reason": "expired"})
    return pending


def _address(account: Account) -> str | None:
    """``account``'s address as sign-ups key it; None when it has none a sign-up could have. A
    guest's or an imported author's address is stored as given (never validated), and one that
    does not normalize cannot be a sign-up's, which always does."""
    if account.email_normalized:
        return account.email_normalized
    if not account.email:
        return None
    try:
        return services.normalize_email(account.email)
    except ValidationFailed:
        return None


def pending_for(session: Session, account: Account) -> list[PendingRegistration]:
    """The sign-ups waiting for confirmation to ``account``'s address (for its export)."""
    address = _address(account)
    if address is None:
        return []
    query = select(PendingRegistration).where(PendingRegistration.email_normalized == address)
    return list(session.scalars(query.order_by(PendingRegistration.id)))


def do_forget_pending(session: Session, account: Account) -> int:
    """Delete the sign-ups waiting for confirmation to ``account``'s address (its erasure);
    returns how many."""
    address = _address(account)
    if address is None:
        return 0
    result = session.execute(
        delete(PendingRegistration).where(PendingRegistration.email_normalized == address)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def do_purge_expired(session: Session, now: datetime) -> int:
    """Delete the sign-ups nobody confirmed in time (each holds an address); returns how many."""
    result = session.execute(delete(PendingRegistration).where(PendingRegistration.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


def do_request_registration(
    session: Session,
    *,
    name: str,
    email: str,
    password: str,
    now: datetime,
    site_id: int | None,
    locale: str | None,
) -> None:
    """Validate a sign-up, then either store it and queue the confirmation mail, or — when the
    address has an account — queue a "you have an account" mail to its owner. Returns nothing on
    purpose: the caller answers the same in both cases."""
    from parley.notifications.services import do_queue_mail, do_queue_pending_mail

    do_purge_expired(session, now)
    name, _ = services.check_name_available(session, name)  # 409 name_taken: names are public
    email_norm = services.normalize_email(email)
    services.check_password(password)
    password_hash = passwords.hash_password(password)  # both branches pay for it (timing)
    holder = session.scalar(select(Account.id).where(Account.email_normalized == email_norm))
    if holder is not None:
        do_queue_mail(session, "register_existing", holder, now)
        return
    pending = PendingRegistration(
        site_id=site_id,
        name=name,
        email=email.strip(),
        email_normalized=email_norm,
        password_hash=password_hash,
        locale=locale,
        created_at=now,
        expires_at=now + PENDING_LIFETIME,
    )
    session.add(pending)
    session.flush()
    do_queue_pending_mail(session, "register_confirm", pending.id, now)


def do_confirm_registration(session: Session, *, token: str, secret: bytes, now: datetime) -> Account:
    """Create the account a valid confirmation token names (the same checks as any new account:
    a name or address taken meanwhile is ``name_taken`` / ``email_taken`` — the person confirming
    owns the mailbox, so that tells them nothing new) and forget the pending sign-ups of its
    address."""
    pending = access_pending(session, secret, token, now)
    account = services.do_create_account(
        session,
        name=pending.name,
        email=pending.email,
        password_hash=pending.password_hash,
        now=now,
        home_site_id=pending.site_id,
    )
    session.execute(
        delete(PendingRegistration).where(PendingRegistration.email_normalized == pending.email_normalized)
    )
    return account


def return_url(session: Session, site_id: int | None, public_url: str) -> str:
    """Where the confirmation page sends the reader back: the site's first allowed origin (the
    publisher's pages), else Parley's own public URL."""
    from parley.sites.models import Site

    site = session.get(Site, site_id) if site_id else None
    origins = [o for o in (site.allowed_origins if site else []) if isinstance(o, str) and o]
    return origins[0] if origins else public_url
