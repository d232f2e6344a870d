"""Publisher single sign-on: a JWT the publisher signs for its logged-in reader.

HS256 with the site's shared secret, or RS256 with the publisher's public key. Claims: ``sub``
(required), ``name``, ``email``, ``exp`` (required); ``iat`` may not lie in the future; ``iss``
and ``aud`` are checked when the site configures them. The algorithm list is pinned per key type,
so ``alg: none`` and HS/RS confusion (an HS256 token "signed" with the public key) fail. A site has
one key: a token whose header names a ``kid`` must name that key's id (``sso_key_id`` in the site
settings), so a token meant for another key is refused before its signature is even looked at.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from parley.accounts.errors import InvalidToken, NameTaken, SsoNotConfigured
from parley.accounts.models import Account, AccountKind, SsoIdentity, UsedTokenId
from parley.accounts.names import clean_display_name
from parley.accounts.services import do_create_account, do_rename, find_name_collision, name_taken
from parley.sites.models import Site
from parley.web.inputs import has_unstorable

LEEWAY_SECONDS = 30
MAX_TIMESTAMP = 253402300799.0  # 9999-12-31T23:59:59Z, the last second a datetime can hold


@dataclass(frozen=True, slots=True)
class SsoClaims:
    subject: str
    name: str | None
    email: str | None
    expires_at: datetime
    jti: str | None


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and not token.startswith(("pst_", "pat_"))


def verify_token(site: Site, token: str, now: datetime) -> SsoClaims:
    if not site.sso_secret and not site.sso_public_key:
        raise SsoNotConfigured()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidToken() from None
    kid = header.get("kid")
    if kid is not None and kid != site.policy().sso_key_id:
        # one key per site: a token that names another (or any key, when the site names none) was
        # not signed for this key, whatever its signature says
        raise InvalidToken(context={"reason": "unknown kid"})
    alg = header.get("alg")
    if alg == "HS256" and site.sso_secret:
        key: Any = site.sso_secret
    elif alg == "RS256" and site.sso_public_key:
        key = site.sso_public_key
    else:
        raise InvalidToken(context={"alg": str(alg)[:20]})
    options: jwt.types.Options = {"require": ["exp", "sub"], "verify_aud": bool(site.sso_audience)}
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=site.sso_audience or None,
            issuer=site.sso_issuer or None,
            options=options,
            leeway=LEEWAY_SECONDS,
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(context={"reason": type(exc).__name__}) from None
    iat = claims.get("iat")
    if isinstance(iat, (int, float)) and iat > now.timestamp() + LEEWAY_SECONDS:
        raise InvalidToken(context={"reason": "iat in the future"})
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 256 or has_unstorable(sub):
        raise InvalidToken(context={"reason": "bad sub"})
    jti = claims.get("jti")
    if jti is not None and (not isinstance(jti, str) or len(jti) > 256 or has_unstorable(jti)):
        raise InvalidToken(context={"reason": "bad jti"})
    return SsoClaims(
        subject=sub,
        name=_text_claim(claims.get("name"), 200),
        email=_text_claim(claims.get("email"), 320),
        # PyJWT accepts any future exp; a date must stay within what datetime and the columns hold
        expires_at=datetime.fromtimestamp(min(float(claims["exp"]), MAX_TIMESTAMP), UTC),
        jti=jti or None,
    )


def _text_claim(value: Any, max_length: int) -> str | None:
    """An optional text claim (name, e-mail): dropped when it is no storable string."""
    if not isinstance(value, str) or not value or len(value) > max_length or has_unstorable(value):
        return None
    return value


def find_sso_account(session: Session, site: Site, subject: str) -> Account | None:
    return session.scalar(
        select(Account)
        .join(SsoIdentity, SsoIdentity.account_id == Account.id)
        .where(SsoIdentity.site_id == site.id, SsoIdentity.subject == subject)
    )


def do_consume_jti(session: Session, site: Site, claims: SsoClaims) -> None:
    """Refuse a token whose ``jti`` was exchanged before (replay)."""
    if claims.jti is None:
        return
    try:
        with session.begin_nested():
            session.add(UsedTokenId(site_id=site.id, jti=claims.jti[:256], expires_at=claims.expires_at))
            session.flush()
    except IntegrityError:
        raise InvalidToken(context={"reason": "replayed jti"}) from None


def do_link_sso_account(session: Session, site: Site, claims: SsoClaims, now: datetime) -> Account:
    """The account for (site, sub): found, or created with the publisher's display name.

    A display name that looks like another account's or a reserved name is refused (``name_taken``):
    the publisher's readers are held to the same impersonation rules as everyone else.
    """
    account = find_sso_account(session, site, claims.subject)
    wanted = claims.name or f"Reader {claims.subject[:12]}"
    if account is not None:
        if claims.name and clean_display_name(claims.name) != account.display_name:
            with contextlib.suppress(NameTaken):  # keep the old name; the reader keeps commenting
                do_rename(session, account, claims.name, now)
        return account
    collision = find_name_collision(session, clean_display_name(wanted))
    if collision is not None:
        raise name_taken(collision)
    account = do_create_account(
        session,
        name=wanted,
        now=now,
        kind=AccountKind.SSO,
        home_site_id=site.id,
        verified=False,
    )
    if claims.email:
        account.email = claims.email[:320]
    session.add(SsoIdentity(site_id=site.id, subject=claims.subject, account_id=account.id, created_at=now))
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # a concurrent first login of the same subject won
        raise InvalidToken(context={"reason": "concurrent link"}) from None
    return account
