"""Registration with e-mail confirmation (security issue 9), through a real SMTP server (aiosmtpd).

With ``mail_backend = "smtp"`` (``registration_confirmation = "auto"``), registering answers 202 the
same way whether or not the address has an account; the link in the mail opens a page whose button
(or ``POST /api/v1/auth/confirm``) creates the account. The link works once, for a day, and only as
signed. With the null mail backend (development), registration stays immediate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select

from parley.accounts.models import Account, PendingRegistration
from parley.clock import FrozenClock
from parley.config import Settings
from parley.jobs.services import run_due
from support.apps import TEST_MODERATION, checking_client
from support.factories import PASSWORD, bearer, make_account, make_site
from support.smtp import Inbox, smtp_server

REGISTER = "/api/v1/auth/register"
CONFIRM = "/api/v1/auth/confirm"
LOGIN = "/api/v1/auth/login"
SENT = {"status": "confirmation_sent"}


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def inbox(smtp: tuple[Inbox, int]) -> Inbox:
    box = smtp[0]
    box.messages.clear()
    box.envelopes.clear()
    box.fail_next = 0
    return box


@pytest.fixture
def mail_app(
    settings: Settings, clock: FrozenClock, smtp: tuple[Inbox, int], inbox: Inbox
) -> Iterator[FastAPI]:
    configured = settings.model_copy(
        update={"mail_backend": "smtp", "smtp_host": "127.0.0.1", "smtp_port": smtp[1], "smtp_tls": "none"}
    )
    assert configured.registration_confirms  # "auto" with SMTP
    application = create(configured, clock)
    yield application
    application.state.registry.close()


def create(settings: Settings, clock: FrozenClock) -> FastAPI:
    from parley.app import create_app

    application = create_app(settings, clock=clock)
    make_site(
        application.state.registry.db,
        clock,
        "test",
        name="Testzeitung",
        allowed_origins=["https://zeitung.example"],
        settings={"moderation": TEST_MODERATION},
    )
    return application


@pytest.fixture
def c(mail_app: FastAPI) -> Iterator[TestClient]:
    with checking_client(mail_app, follow_redirects=False) as client:
        yield client


def sign_up(c: TestClient, email: str, name: str = "Frida Frisch", **headers: str) -> dict[str, object]:
    r = c.post(REGISTER, json={"name": name, "email": email, "password": PASSWORD}, headers=headers)
    assert r.status_code == 202, r.text
    assert r.json() == SENT
    assert "set-cookie" not in r.headers
    return dict(r.json())


def text_of(mail: EmailMessage) -> str:
    part = mail.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def link_in(mail: EmailMessage) -> str:
    found = re.search(r"http://testserver/account/confirm\?token=\S+", text_of(mail))
    assert found, text_of(mail)
    return found.group(0)


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def accounts_with(app: FastAPI, email: str) -> int:
    with app.state.registry.db.read() as s:
        return int(s.scalar(select(func.count(Account.id)).where(Account.email_normalized == email)) or 0)


def pending_count(app: FastAPI) -> int:
    with app.state.registry.db.read() as s:
        return int(s.scalar(select(func.count(PendingRegistration.id))) or 0)


def test_sign_up_mail_page_and_api_confirmation(mail_app: FastAPI, c: TestClient, inbox: Inbox) -> None:
    sign_up(c, "Frida@Example.org", **{"Accept-Language": "de"})
    assert accounts_with(mail_app, "frida@example.org") == 0  # no account before the link is used
    assert inbox.messages == []  # mail leaves from the job queue, never in the request
    run_due(mail_app.state.registry)
    [mail] = inbox.to("Frida@Example.org")
    assert mail["Subject"] == "Bitte bestätigen Sie Ihre Registrierung"
    assert "Hallo Frida Frisch," in text_of(mail)
    link = link_in(mail)
    html = mail.get_body(("html",))
    assert html is not None
    assert link.replace("&", "&amp;") in str(html.get_content())

    # the page behind the link shows a button and does not use the link (scanners open links)
    page = c.get(link.removeprefix("http://testserver"), headers={"Accept-Language": "de"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Mein Konto anlegen" in page.text
    assert 'action="/account/confirm"' in page.text
    assert "<script" not in page.text
    assert accounts_with(mail_app, "frida@example.org") == 0
    assert c.get(link.removeprefix("http://testserver")).status_code == 200  # still there

    r = c.post(CONFIRM, json={"token": token_of(link)})
    assert r.status_code == 201, r.text
    data = r.json()
    assert data["account"]["name"] == "Frida Frisch"
    assert data["account"]["email"] == "Frida@Example.org"
    jar: SimpleCookie = SimpleCookie()
    jar.load(r.headers["set-cookie"])
    cookie = jar["parley_session"]
    assert cookie.value == data["token"]
    assert cookie["httponly"]
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/"
    assert c.get("/api/v1/me", headers=bearer(data["token"])).json()["name"] == "Frida Frisch"
    c.cookies.clear()
    with mail_app.state.registry.db.read() as s:
        account = s.scalar(select(Account).where(Account.email_normalized == "frida@example.org"))
        assert account is not None
        assert account.home_site_id is not None
    assert pending_count(mail_app) == 0

    login = c.post(LOGIN, json={"email": "frida@example.org", "password": PASSWORD})
    assert login.status_code == 200
    c.cookies.clear()

    # used: the same link again is refused, by the API and by the page
    again = c.post(CONFIRM, json={"token": token_of(link)})
    assert again.status_code == 400
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["code"] == "confirmation_invalid"
    de = c.post(CONFIRM, json={"token": token_of(link)}, headers={"Accept-Language": "de"}).json()
    assert "Bestätigungslink" in de["title"]
    stale = c.get(link.removeprefix("http://testserver"))
    assert stale.status_code == 400
    assert "Mein Konto anlegen" not in stale.text
    assert accounts_with(mail_app, "frida@example.org") == 1


def test_the_form_confirms_from_our_own_origin_only(mail_app: FastAPI, c: TestClient, inbox: Inbox) -> None:
    sign_up(c, "gustav@example.org", name="Gustav Gut")
    run_due(mail_app.state.registry)
    token = token_of(link_in(inbox.to("gustav@example.org")[0]))
    # a form posted from another site (login CSRF's vehicle) is refused and uses nothing up
    cross = c.post("/account/confirm", data={"token": token}, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    assert accounts_with(mail_app, "gustav@example.org") == 0
    done = c.post(
        "/account/confirm",
        data={"token": token},
        headers={"Origin": "http://testserver", "Accept-Language": "en"},
    )
    assert done.status_code == 200, done.text
    assert "Your account is confirmed. Go back to the article and log in." in done.text
    assert 'href="https://zeitung.example"' in done.text  # back to the publisher's site
    assert "set-cookie" not in done.headers  # the page makes no session: log in on the article
    assert accounts_with(mail_app, "gustav@example.org") == 1
    assert c.post(LOGIN, json={"email": "gustav@example.org", "password": PASSWORD}).status_code == 200
    c.cookies.clear()
    used = c.post("/account/confirm", data={"token": token}, headers={"Origin": "http://testserver"})
    assert used.status_code == 400
    assert "invalid, expired or used already" in used.text


def test_expired_and_tampered_links_are_refused(
    mail_app: FastAPI, c: TestClient, inbox: Inbox, clock: FrozenClock
) -> None:
    sign_up(c, "hanna@example.org", name="Hanna Hohl")
    sign_up(c, "ida@example.org", name="Ida Igel")
    run_due(mail_app.state.registry)
    hanna = token_of(link_in(inbox.to("hanna@example.org")[0]))
    ida = token_of(link_in(inbox.to("ida@example.org")[0]))
    pending_id, _, signature = hanna.partition(".")
    other_id = ida.partition(".")[0]
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for bad in (
        f"{pending_id}.{flipped}",  # a changed signature
        f"{other_id}.{signature}",  # hanna's signature on ida's sign-up
        pending_id,
        f"{pending_id}.",
        "x.y",
        "",
        "٣." + signature,  # a non-ASCII digit
    ):
        r = c.post(CONFIRM, json={"token": bad})
        assert r.status_code in (400, 422), bad
        if r.status_code == 400:
            assert r.json()["code"] == "confirmation_invalid", bad
    clock.advance(24 * 3600 + 1)
    r = c.post(CONFIRM, json={"token": hanna})
    assert r.status_code == 400
    assert r.json()["code"] == "confirmation_invalid"
    assert c.get(f"/account/confirm?token={hanna}").status_code == 400
    assert accounts_with(mail_app, "hanna@example.org") == 0
    # the next registration clears out expired sign-ups
    sign_up(c, "jana@example.org", name="Jana Jung")
    assert pending_count(mail_app) == 1


def test_a_taken_address_gets_the_same_answer_and_a_mail_to_its_owner(
    mail_app: FastAPI, c: TestClient, inbox: Inbox, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    db = mail_app.state.registry.db
    make_account(db, clock, name="Karla Konto", email="karla@example.org")
    caplog.set_level("DEBUG")
    taken = c.post(REGISTER, json={"name": "Kurt Kopie", "email": "KARLA@example.org", "password": PASSWORD})
    fresh = c.post(REGISTER, json={"name": "Lene Los", "email": "lene@example.org", "password": PASSWORD})
    assert (taken.status_code, taken.json()) == (fresh.status_code, fresh.json()) == (202, SENT)
    assert "set-cookie" not in taken.headers
    assert "set-cookie" not in fresh.headers
    assert pending_count(mail_app) == 1  # only the free address waits
    run_due(mail_app.state.registry)
    [owner] = inbox.to("karla@example.org")
    assert owner["Subject"] == "Registrierung mit Ihrer E-Mail-Adresse"
    body = text_of(owner)
    assert "Hallo Karla Konto," in body
    assert "melden Sie sich einfach" in body
    assert "/account/confirm" not in body  # no link that could make a second account
    assert inbox.to("KARLA@example.org") == []
    assert len(inbox.to("lene@example.org")) == 1
    assert accounts_with(mail_app, "karla@example.org") == 1
    # job payloads and logs carry ids, never the addresses
    from parley.jobs.models import Job

    with db.read() as s:
        payloads = [str(j.payload) for j in s.scalars(select(Job))]
    assert payloads
    assert not any("@" in p for p in payloads)
    parley_logs = [r.getMessage() for r in caplog.records if r.name.startswith("parley")]
    assert parley_logs
    assert not any("@" in m for m in parley_logs)


def test_the_owner_of_an_account_without_password_is_sent_to_the_publishers_login(
    mail_app: FastAPI, c: TestClient, inbox: Inbox, clock: FrozenClock
) -> None:
    """An account that logs in through the publisher (SSO) has no password: its owner is not told
    to log in with one."""
    make_account(
        mail_app.state.registry.db, clock, name="Sina Single", email="sina@example.org", password=None
    )
    sign_up(c, "sina@example.org", name="Sven Sorglos")
    run_due(mail_app.state.registry)
    [owner] = inbox.to("sina@example.org")
    body = text_of(owner)
    assert "mit Ihrer Anmeldung beim Verlag verbunden" in body
    assert "Passwort" not in body
    assert "/account/confirm" not in body


def test_validation_comes_first_and_names_stay_public(
    mail_app: FastAPI, c: TestClient, clock: FrozenClock
) -> None:
    make_account(mail_app.state.registry.db, clock, name="Mona Marke", email="mona@example.org")
    short = c.post(REGISTER, json={"name": "Neu Ling", "email": "n@example.org", "password": "x"})
    assert short.status_code == 422
    bad = c.post(REGISTER, json={"name": "Neu Ling", "email": "kein-at", "password": PASSWORD})
    assert bad.status_code == 422
    name = c.post(REGISTER, json={"name": "Mona Marke", "email": "other@example.org", "password": PASSWORD})
    assert name.status_code == 409
    assert name.json()["code"] == "name_taken"
    assert pending_count(mail_app) == 0


def test_a_name_or_address_taken_meanwhile_is_refused_on_confirmation(
    mail_app: FastAPI, c: TestClient, inbox: Inbox, clock: FrozenClock
) -> None:
    sign_up(c, "otto@example.org", name="Otto Ohr")
    sign_up(c, "otto@example.org", name="Otto Zwei")  # the same address twice: two links
    sign_up(c, "paula@example.org", name="Paula Pe")
    run_due(mail_app.state.registry)
    first, second = (token_of(link_in(m)) for m in inbox.to("otto@example.org"))
    paula = token_of(link_in(inbox.to("paula@example.org")[0]))
    assert c.post(CONFIRM, json={"token": first}).status_code == 201
    c.cookies.clear()
    # the second link of the address went with the first confirmation
    assert c.post(CONFIRM, json={"token": second}).json()["code"] == "confirmation_invalid"
    make_account(mail_app.state.registry.db, clock, name="Paula Pe", email="paula-alt@example.org")
    r = c.post(CONFIRM, json={"token": paula})
    assert r.status_code == 409
    assert r.json()["code"] == "name_taken"
    assert accounts_with(mail_app, "paula@example.org") == 0


def test_a_mail_for_a_sign_up_gone_meanwhile_is_not_sent(
    mail_app: FastAPI, c: TestClient, inbox: Inbox, clock: FrozenClock
) -> None:
    sign_up(c, "quirin@example.org", name="Quirin Quer")
    clock.advance(24 * 3600 + 1)  # expired before the worker came round: nothing to send
    run_due(mail_app.state.registry)
    assert inbox.messages == []
    from parley.jobs.models import Job

    with mail_app.state.registry.db.read() as s:
        assert [j.status for j in s.scalars(select(Job))] == ["done"]


def test_without_mail_registration_stays_immediate(settings: Settings, clock: FrozenClock) -> None:
    assert settings.mail_backend == "null"
    assert settings.registration_confirmation == "auto"
    assert not settings.registration_confirms
    application = create(settings, clock)
    try:
        with checking_client(application) as client:
            r = client.post(
                REGISTER, json={"name": "Rita Rasch", "email": "rita@example.org", "password": PASSWORD}
            )
            assert r.status_code == 201
            assert r.headers["set-cookie"].startswith("parley_session=")
            client.cookies.clear()
            again = client.post(
                REGISTER, json={"name": "Rita Zwei", "email": "rita@example.org", "password": PASSWORD}
            )
            assert again.status_code == 409
            assert again.json()["code"] == "email_taken"
    finally:
        application.state.registry.close()


def test_off_keeps_immediate_registration_even_with_mail(settings: Settings) -> None:
    off = Settings(**{**settings.model_dump(), "mail_backend": "smtp", "registration_confirmation": "off"})
    assert not off.registration_confirms
    required = Settings(
        **{**settings.model_dump(), "mail_backend": "smtp", "registration_confirmation": "required"}
    )
    assert required.registration_confirms


def test_required_without_mail_is_a_settings_error(settings: Settings) -> None:
    with pytest.raises(ValidationError, match="registration_confirmation = 'required' needs mail_backend"):
        Settings(**{**settings.model_dump(), "registration_confirmation": "required"})


def test_sign_ups_are_capped_per_address_alike_for_taken_and_free_ones(
    mail_app: FastAPI, c: TestClient
) -> None:
    """Every sign-up mails the address: a cap per address keeps a stranger from flooding a mailbox,
    and it counts a taken address as it counts a free one, so a 429 tells nothing either."""
    registry = mail_app.state.registry
    limit = int(registry.settings.rate_limit_register_email.split("/")[0])
    assert 2 * (limit + 1) <= int(registry.settings.rate_limit_register_ip.split("/")[0])
    taken = "schon-da@example.org"
    make_account(registry.db, registry.clock, name="Schon Da", email=taken)
    answers = {}
    for email in (taken, "noch-frei@example.org"):
        sent = [
            c.post(REGISTER, json={"name": f"Person {i}", "email": email, "password": PASSWORD})
            for i in "abcdef"[: limit + 1]
        ]
        answers[email] = [(r.status_code, r.json().get("code", r.json())) for r in sent]
    assert answers[taken] == answers["noch-frei@example.org"]
    assert [code for code, _ in answers[taken]] == [202] * limit + [429]
