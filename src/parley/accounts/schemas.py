"""API request and response models of the accounts domain."""

from __future__ import annotations

from pydantic import BaseModel, Field

from parley.web.inputs import ApiInput


class _In(ApiInput):
    pass


class RegisterIn(_In):
    name: str = Field(..., max_length=200)
    email: str = Field(..., max_length=320)
    password: str = Field(..., max_length=1024)


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
