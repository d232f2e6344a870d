"""Who is making a request: resolved from a session cookie, a bearer session token, a publisher SSO
token or an admin API token. Anonymous requests get :data:`ANONYMOUS`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from parley.accounts import services, sso
from parley.accounts.errors import InvalidToken
from parley.accounts.models import Account, Role
from parley.errors import Unauthorized
from parley.sites.models import Site

Via = Literal["none", "cookie", "bearer", "sso", "api_token"]


@dataclass(frozen=True, slots=True)
class Principal:
    account_id: int | None = None
    name: str | None = None
    role: str = Role.COMMENTER.value
    kind: str | None = None
    verified: bool = False
    status: str = "active"
    via: Via = "none"
    csrf_token: str | None = None
    session_token: str | None = None
    token_site_id: int | None = None  # an API token limited to one site
    sso_claims: sso.SsoClaims | None = None  # a valid SSO token whose account does not exist yet

    @property
    def is_authenticated(self) -> bool:
        return self.account_id is not None

    @property
    def posts_as_guest(self) -> bool:
        """Nobody signed in and no SSO identity to link: a comment goes to a guest account (found by
        name and e-mail address, or made)."""
        return self.account_id is None and self.sso_claims is None

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.MODERATOR.value, Role.ADMIN.value)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value


ANONYMOUS = Principal()


def from_account(account: Account, via: Via, **kw: object) -> Principal:
    return Principal(
        account_id=account.id,
        name=account.display_name,
        role=account.role,
        kind=account.kind,
        verified=account.verified,
        status=account.status,
        via=via,
        **kw,  # type: ignore[arg-type]
    )


def resolve(
    session: Session,
    *,
    authorization: str | None,
    cookie_token: str | None,
    site: Site | None,
    now: datetime,
) -> Principal:
    """Find the principal. A presented but invalid credential is an error, never silently anonymous."""
    if authorization:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized(context={"reason": "unsupported authorization scheme"})
        if token.startswith("pat_"):
            found = services.access_api_token(session, token)
            if found is None:
                raise InvalidToken()
            api_token, account = found
            return from_account(account, "api_token", token_site_id=api_token.site_id)
        if token.startswith("pst_"):
            pair = services.access_session(session, token, now)
            if pair is None:
                raise InvalidToken()
            record, account = pair
            return from_account(account, "bearer", csrf_token=record.csrf_token, session_token=token)
        if sso.looks_like_jwt(token):
            if site is None:
                raise InvalidToken()
            claims = sso.verify_token(site, token, now)
            account_or_none = sso.find_sso_account(session, site, claims.subject)
            if account_or_none is None:
                return Principal(via="sso", sso_claims=claims, name=claims.name)
            return from_account(account_or_none, "sso", sso_claims=claims)
        raise InvalidToken()
    if cookie_token:
        pair = services.access_session(session, cookie_token, now)
        if pair is not None:
            record, account = pair
            return from_account(account, "cookie", csrf_token=record.csrf_token, session_token=cookie_token)
        # a stale cookie is not an error: the reader simply is logged out
    return ANONYMOUS
