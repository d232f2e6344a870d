"""API request and response models of the accounts domain."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from parley.web.inputs import ApiInput


class _In(ApiInput):
    pass


class RegisterIn(_In):
    name: str = Field(..., max_length=200)
    email: str = Field(..., max_length=320)
    password: str = Field(..., max_length=1024)


class ConfirmIn(_In):
    token: str = Field(..., max_length=200, description="The token of the link in the confirmation mail.")


class LoginIn(_In):
    email: str = Field(..., max_length=320)
    password: str = Field(..., max_length=1024)


class SsoIn(_In):
    token: str = Field(..., max_length=8192)


class MePatch(_In):
    name: str | None = Field(None, max_length=200)


class AccountOut(BaseModel):
    id: int
    name: str
    role: str
    kind: str
    verified: bool
    status: str
    email: str | None = None


class MeOut(AccountOut):
    csrf_token: str | None = None


class SessionOut(BaseModel):
    account: AccountOut
    token: str
    csrf_token: str


class ConfirmationSentOut(BaseModel):
    """A sign-up waits for its confirmation. The same answer whether or not the address has an
    account (the owner of an address that has one gets a mail saying so)."""

    status: Literal["confirmation_sent"]
