"""Accounts through django-allauth and django-axes: sign-up, email confirmation, sign-in, password reset,
login throttling, and the GOV.UK form markup of those pages."""

import re

import pytest
from allauth.account.models import EmailAddress
from axes.models import AccessAttempt
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from portal.models import User
from tests.factories import PASSWORD, UserFactory
from tests.portal.account_factories import verified_user, with_email

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-2026"
LOGIN_URL = "/accounts/login/"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """allauth keeps its rate-limit counters in the cache; start every test from zero."""
    cache.clear()
    yield
    cache.clear()


def _link_in(message) -> str:
    match = re.search(r"https?://\S+", message.body)
    assert match, message.body
    return match.group(0)


def _login(client, email, password, **extra):
    return client.post(LOGIN_URL, {"login": email, "password": password}, **extra)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_sign_up_confirm_email_then_sign_in(client):
    """Sign-up sends a plain-text confirmation link; following it confirms the address and signs the person in."""
    response = client.post(
        reverse("account_signup"),
        {
            "full_name": "Priya Shah",
            "email": "Priya.Shah@Oakfield-Primary.example",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="priya.shah@oakfield-primary.example")
    assert user.full_name == "Priya Shah"
    assert not _signed_in(client)
    assert not EmailAddress.objects.get(user=user).verified

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["priya.shah@oakfield-primary.example"]
    assert message.subject == "Tri-Council Schools Portal: Confirm your email address"
    assert "<" not in message.body and "&#x27;" not in message.body  # plain text, nothing HTML-escaped
    link = _link_in(message)
    assert "/accounts/confirm-email/" in link

    path = link.replace("http://testserver", "")
    page = client.get(path)
    assert page.status_code == 200
    assert "Confirm email address" in page.content.decode()
    confirmed = client.post(path)
    assert confirmed.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    assert _signed_in(client)

    client.post(reverse("account_logout"))
    assert not _signed_in(client)
    response = _login(client, "priya.shah@oakfield-primary.example", NEW_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:dashboard")
    assert _signed_in(client)


def test_unconfirmed_address_cannot_sign_in(client):
    """With mandatory verification, the right password of an unconfirmed address sends a new link instead."""
    user = UserFactory(email="new@example.org")
    with_email(user, verified=False)
    response = _login(client, "new@example.org", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert not _signed_in(client)
    assert len(mail.outbox) == 1 and "/accounts/confirm-email/" in mail.outbox[0].body


def test_wrong_password_shows_govuk_error_summary_linked_to_field(client):
    """A failed sign-in shows the GOV.UK error summary and leaves the person signed out."""
    verified_user(email="sam@example.org")
    response = _login(client, "sam@example.org", "not-the-password")
    html = response.content.decode()
    assert response.status_code == 200
    assert not _signed_in(client)
    assert "govuk-error-summary" in html
    assert "<title>Error: Sign in" in html


def test_signup_errors_render_as_govuk_form_groups(client):
    """Field errors get govuk-input--error, an error message with an id, aria-describedby to it, and a summary link."""
    response = client.post(
        reverse("account_signup"), {"full_name": "", "email": "not-an-email", "password1": "x", "password2": "y"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="#id_email"' in html and 'href="#id_full_name"' in html
    assert 'id="id_email-error"' in html
    email_input = re.search(r"<input[^>]*id=\"id_email\"[^>]*>", html).group(0)
    assert "govuk-input--error" in email_input
    assert 'aria-describedby="id_email-hint id_email-error"' in email_input
    assert 'aria-invalid="true"' in email_input
    assert "placeholder" not in email_input
    assert User.objects.count() == 0


def test_account_pages_have_labels_and_autocomplete(client):
    """Sign-in and sign-up fields carry labels and the autocomplete tokens browsers and password managers need."""
    login = client.get(LOGIN_URL).content.decode()
    for field, token in (("id_login", "email"), ("id_password", "current-password")):
        assert f'for="{field}"' in login
        assert re.search(rf'<input[^>]*autocomplete="{token}"[^>]*id="{field}"', login), field
    signup = client.get(reverse("account_signup")).content.decode()
    for field, token in (
        ("id_full_name", "name"),
        ("id_email", "email"),
        ("id_password1", "new-password"),
        ("id_password2", "new-password"),
    ):
        assert f'for="{field}"' in signup
        assert re.search(rf'<input[^>]*autocomplete="{token}"[^>]*id="{field}"', signup), field
        assert re.search(rf'<input[^>]*class="govuk-input[^"]*"[^>]*id="{field}"', signup), field


@pytest.mark.parametrize(
    ("url_name", "signed_in", "heading"),
    [
        ("account_login", False, "Sign in"),
        ("account_signup", False, "Create an account"),
        ("account_reset_password", False, "Reset your password"),
        ("account_reset_password_done", False, "Check your email"),
        ("account_email_verification_sent", False, "Check your email"),
        ("account_logout", True, "Sign out"),
        ("account_change_password", True, "Change your password"),
        ("account_email", True, "Your email addresses"),
    ],
)
def test_account_pages_use_the_site_shell(client, url_name, signed_in, heading):
    """Each allauth page is our GOV.UK template, inside the site shell, not allauth's default markup."""
    if signed_in:
        client.force_login(verified_user())
    response = client.get(reverse(url_name))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<h1 class="govuk-heading-xl">{heading}</h1>' in html or f'class="govuk-panel__title">{heading}' in html
    assert "govuk-skip-link" in html and "Tri-Council Schools Portal" in html


def test_password_reset_end_to_end(client):
    """The emailed link lets the person choose a new password; the old one stops working and the link is spent."""
    user = verified_user(email="teacher@oakfield-primary.example")
    response = client.post(reverse("account_reset_password"), {"email": "Teacher@Oakfield-Primary.example"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Tri-Council Schools Portal: Reset your password"
    link = _link_in(message)

    key_page = client.get(link.replace("http://testserver", ""), follow=True)
    assert key_page.status_code == 200
    assert "Choose a new password" in key_page.content.decode()
    set_password_path = key_page.redirect_chain[-1][0]
    done = client.post(set_password_path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert done["Location"] == reverse("account_reset_password_from_key_done")

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert _login(client, user.email, PASSWORD).status_code == 200  # old password refused
    assert not _signed_in(client)
    assert _login(client, user.email, NEW_PASSWORD).status_code == 302
    assert _signed_in(client)

    client.post(reverse("account_logout"))
    again = client.get(link.replace("http://testserver", ""), follow=True)
    assert "This link does not work" in again.content.decode()


def test_password_reset_for_unknown_address_reveals_nothing(client):
    """Asking to reset an address with no account looks the same, so the form cannot be used to find accounts."""
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_done")


def test_five_failures_lock_the_address_even_with_the_right_password(client):
    """After five wrong passwords, axes refuses even the right one, with a page saying how long to wait."""
    user = verified_user(email="sbm@oakfield-primary.example")
    for attempt in range(1, 5):
        response = _login(client, user.email, f"wrong-{attempt}")
        assert response.status_code == 200, attempt  # the form again, with an error
    fifth = _login(client, user.email, "wrong-5")
    assert fifth.status_code == 429
    assert "You cannot sign in for now" in fifth.content.decode()

    right = _login(client, user.email, PASSWORD)
    html = right.content.decode()
    assert right.status_code == 429
    assert "You cannot sign in for now" in html
    assert "Wait 15 minutes, then try again." in html
    assert not _signed_in(client)
    assert AccessAttempt.objects.get(username=user.email).failures_since_start >= 5


def test_lockout_counts_the_address_case_insensitively(client):
    """Changing the case of the address does not buy more guesses."""
    user = verified_user(email="sbm@severn-valley.example")
    for attempt in range(5):
        _login(client, user.email.upper() if attempt % 2 else user.email, f"wrong-{attempt}")
    assert _login(client, user.email, PASSWORD).status_code == 429


def test_lockout_is_per_address_and_device(client):
    """A locked address does not lock other people on the same network, nor the same person elsewhere."""
    locked = verified_user(email="locked@example.org")
    other = verified_user(email="other@example.org")
    for attempt in range(5):
        _login(client, locked.email, f"wrong-{attempt}")
    assert _login(client, locked.email, PASSWORD).status_code == 429

    assert _login(client, other.email, PASSWORD).status_code == 302
    client.post(reverse("account_logout"))
    assert _login(client, locked.email, PASSWORD, REMOTE_ADDR="10.1.2.3").status_code == 302


def test_successful_sign_in_resets_the_failure_count(client):
    """Four failures, then a success, then four more failures still leave the right password working."""
    user = verified_user(email="reset@example.org")
    for attempt in range(4):
        assert _login(client, user.email, f"wrong-{attempt}").status_code == 200
    assert _login(client, user.email, PASSWORD).status_code == 302
    client.post(reverse("account_logout"))
    for attempt in range(4):
        assert _login(client, user.email, f"again-wrong-{attempt}").status_code == 200
    assert _login(client, user.email, PASSWORD).status_code == 302
    assert _signed_in(client)
