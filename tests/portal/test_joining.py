"""Joining a school: searching, joining by verified email domain, asking, deciding, and every refusal."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal import memberships, tasks
from portal.models import JoinRequest, SchoolMembership, SentEmail
from tests.factories import SchoolFactory, SchoolMembershipFactory, UserFactory
from tests.portal.account_factories import JoinRequestFactory, verified_user, with_email

pytestmark = pytest.mark.django_db

Status = JoinRequest.Status


@pytest.fixture
def oakfield(db):
    return SchoolFactory(
        name="Oakfield Primary School", urn=124001, postcode="ST16 2DH", email_domain="oakfield-primary.example"
    )


@pytest.fixture
def approver(oakfield):
    user = verified_user(email="sbm@oakfield-primary.example", full_name="Sue Barker")
    SchoolMembershipFactory(user=user, school=oakfield, role="approver")
    return user


def _refusal_code(callable_, **kwargs) -> str:
    with pytest.raises(ValidationError) as caught:
        callable_(**kwargs)
    return caught.value.code


# --- Searching ----------------------------------------------------------------------------------------


def test_search_finds_by_name_words_urn_and_postcode(client, oakfield):
    """Name words in any case, the URN, or the postcode with or without its space all find the school."""
    SchoolFactory(name="Severn Valley Academy", urn=137002, postcode="SY2 6ND")
    client.force_login(verified_user())
    for query in ("oakfield", "OAK prim", "124001", "st16 2dh", "ST162DH", "ST16"):
        html = client.get(reverse("portal:school_search"), {"q": query}).content.decode()
        assert "Oakfield Primary School" in html, query
        assert "Severn Valley Academy" not in html, query
    none = client.get(reverse("portal:school_search"), {"q": "zzzz"}).content.decode()
    assert "No schools found" in none


def test_search_lists_open_schools_before_closed_ones(client):
    """A closed school with the same name sorts after the open one."""
    SchoolFactory(name="Aardvark Lane School", status="Closed")
    SchoolFactory(name="Zebra Lane School", status="Open")
    client.force_login(verified_user())
    html = client.get(reverse("portal:school_search"), {"q": "lane"}).content.decode()
    assert html.index("Zebra Lane School") < html.index("Aardvark Lane School")
    assert "Closed</strong>" in html


def test_search_pages_cost_the_same_queries_whatever_their_length(client):
    """Page 1 of 25 results costs as many queries as a page of 3 (no query per row), and page 2 holds the rest."""
    user = verified_user()
    client.force_login(user)
    for n in range(3):
        school = SchoolFactory(name=f"Few Brook School {n}")
        JoinRequestFactory(user=user, school=school)
    for n in range(25):
        school = SchoolFactory(name=f"Many Brook School {n:02d}")
        if n % 2:
            SchoolMembershipFactory(user=user, school=school)
    url = reverse("portal:school_search")
    client.get(url, {"q": "few"})  # warm the session
    with CaptureQueriesContext(connection) as few:
        small = client.get(url, {"q": "few brook"})
    with CaptureQueriesContext(connection) as many:
        large = client.get(url, {"q": "many brook"})
    assert small.context["page"].paginator.count == 3
    assert len(large.context["page"]) == 20
    assert len(many) == len(few)
    page_two = client.get(url, {"q": "many brook", "page": 2})
    assert len(page_two.context["page"]) == 5
    assert "Member</strong>" in large.content.decode() and "Request sent</strong>" in small.content.decode()


def test_search_needs_signing_in(client, oakfield):
    """Anonymous visitors are sent to sign in."""
    response = client.get(reverse("portal:school_search"), {"q": "oak"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# --- Joining by verified domain -----------------------------------------------------------------------


def test_verified_email_at_school_domain_joins_as_booker_at_once(
    client, oakfield, approver, django_capture_on_commit_callbacks
):
    """A confirmed address at the school's domain makes the user a booker with no request; approvers are told."""
    teacher = verified_user(email="teacher@Oakfield-Primary.example")
    client.force_login(teacher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:school_join", args=[oakfield.urn]), {"message": ""})
    assert response.status_code == 302
    membership = SchoolMembership.objects.get(user=teacher, school=oakfield)
    assert membership.role == "booker"
    assert not JoinRequest.objects.filter(user=teacher).exists()
    assert [m.to for m in mail.outbox] == [[approver.email]]
    assert "joined Oakfield Primary School" in mail.outbox[0].subject


def test_another_verified_address_at_the_domain_also_counts(oakfield):
    """Any confirmed address of the user works, not only the one they sign in with."""
    user = verified_user(email="j.bloggs@gmail.example")
    with_email(user, verified=True, email="j.bloggs@oakfield-primary.example", primary=False)
    outcome = memberships.request_to_join(user=user, school=oakfield)
    assert outcome.joined


def test_unverified_email_at_school_domain_does_not_join(
    client, oakfield, approver, django_capture_on_commit_callbacks
):
    """An unconfirmed address at the school's domain proves nothing: the user gets a pending request instead."""
    user = UserFactory(email="impostor@oakfield-primary.example")
    with_email(user, verified=False)
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:school_join", args=[oakfield.urn]), {"message": "Let me in"})
    assert not SchoolMembership.objects.filter(user=user).exists()
    assert JoinRequest.objects.get(user=user, school=oakfield).status == Status.PENDING


def test_school_without_domain_never_joins_at_once(oakfield):
    """A school with no registered domain always needs its approver, whatever the user's address."""
    oakfield.email_domain = ""
    oakfield.save()
    user = verified_user(email="someone@oakfield-primary.example")
    assert not memberships.request_to_join(user=user, school=oakfield).joined


def test_domain_join_settles_an_earlier_pending_request(oakfield):
    """Confirming the address later and joining by domain withdraws the request made before."""
    user = UserFactory(email="late@oakfield-primary.example")
    address = with_email(user, verified=False)
    earlier = memberships.request_to_join(user=user, school=oakfield).join_request
    address.verified = True
    address.save()
    assert memberships.request_to_join(user=user, school=oakfield).joined
    earlier.refresh_from_db()
    assert earlier.status == Status.WITHDRAWN


# --- Asking, and the approvers' email -----------------------------------------------------------------


def test_request_emails_each_approver_once_even_if_the_task_runs_again(
    client, oakfield, approver, django_capture_on_commit_callbacks
):
    """A request emails every approver after commit, with a link to decide; a rerun of the task sends nothing."""
    second = verified_user(email="head@oakfield-primary.example")
    SchoolMembershipFactory(user=second, school=oakfield, role="approver")
    SchoolMembershipFactory(school=oakfield, role="booker")  # bookers are not asked
    requester = verified_user(email="newcomer@gmail.example", full_name="Nia Newcomer")
    client.force_login(requester)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("portal:school_join", args=[oakfield.urn]), {"message": "I'm the new bursar."})
    assert response.status_code == 302
    assert len(callbacks) == 1
    join_request = JoinRequest.objects.get(user=requester)
    assert join_request.message == "I'm the new bursar."
    assert sorted(m.to[0] for m in mail.outbox) == sorted([approver.email, second.email])
    body = mail.outbox[0].body
    assert "Nia Newcomer" in body and "I'm the new bursar." in body
    assert f"{settings.SITE_URL}/dashboard/join-requests/{join_request.pk}/" in body

    assert tasks.send_join_request_to_approvers.delay(join_request.pk).get() == 0
    assert len(mail.outbox) == 2
    assert SentEmail.objects.filter(key__startswith=f"join-request:{join_request.pk}:ask:").count() == 2


def test_failed_send_is_retried_not_lost(oakfield, approver, monkeypatch):
    """When the mail server fails, no SentEmail row is kept, so the retry sends the email."""
    join_request = JoinRequestFactory(school=oakfield)

    def broken_send(self, fail_silently=False):
        raise OSError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", broken_send)
    with pytest.raises(OSError):
        memberships.notify_approvers_of_request(join_request_id=join_request.pk)
    assert not SentEmail.objects.exists()
    monkeypatch.undo()
    assert memberships.notify_approvers_of_request(join_request_id=join_request.pk) == 1
    assert len(mail.outbox) == 1


def test_request_to_school_without_approver_goes_to_partnership_admins(oakfield):
    """Nobody can decide for a school with no approver, so its requests go to the partnership admins."""
    admin = UserFactory(email="admin@tricouncil.example", is_superuser=True, is_staff=True)
    join_request = JoinRequestFactory(school=oakfield)
    assert memberships.notify_approvers_of_request(join_request_id=join_request.pk) == 1
    assert mail.outbox[0].to == [admin.email]
    assert "no approver" in mail.outbox[0].body


def test_request_decided_before_the_email_goes_sends_nothing(oakfield, approver):
    """If the request was withdrawn or decided before the task ran, approvers are not asked."""
    join_request = JoinRequestFactory(school=oakfield, status=Status.WITHDRAWN)
    assert memberships.notify_approvers_of_request(join_request_id=join_request.pk) == 0
    assert mail.outbox == []


# --- Refusals when asking -----------------------------------------------------------------------------


def test_duplicate_request_is_refused(oakfield, approver):
    """A second request while one is pending is refused and nothing is added."""
    user = verified_user()
    memberships.request_to_join(user=user, school=oakfield)
    assert _refusal_code(memberships.request_to_join, user=user, school=oakfield) == "duplicate_request"
    assert JoinRequest.objects.filter(user=user).count() == 1


def test_asking_again_after_a_decline_is_allowed(oakfield, approver):
    """A declined request is history: the person may ask again."""
    user = verified_user()
    JoinRequestFactory(user=user, school=oakfield, status=Status.DECLINED)
    assert memberships.request_to_join(user=user, school=oakfield).join_request.status == Status.PENDING


def test_member_asking_to_join_is_refused(client, oakfield, approver):
    """Someone already in the school gets a clear message and no request."""
    client.force_login(approver)
    response = client.post(reverse("portal:school_join", args=[oakfield.urn]), {"message": ""}, follow=True)
    assert "You are already a member of Oakfield Primary School." in response.content.decode()
    assert not JoinRequest.objects.exists()
    assert SchoolMembership.objects.get(user=approver).role == "approver"


@pytest.mark.parametrize("verified_domain", [True, False])
def test_closed_school_cannot_be_joined(client, verified_domain):
    """Nobody joins a closed school, by domain or by request."""
    school = SchoolFactory(status="Closed", email_domain="closed.example")
    user = verified_user(email="x@closed.example") if verified_domain else verified_user()
    client.force_login(user)
    response = client.post(reverse("portal:school_join", args=[school.urn]), {"message": ""}, follow=True)
    assert f"{school.name} is closed, so nobody can join it." in response.content.decode()
    assert not SchoolMembership.objects.exists() and not JoinRequest.objects.exists()


def test_message_longer_than_1000_characters_is_refused(client, oakfield):
    """An over-long message is a form error linked from the error summary; nothing is saved."""
    client.force_login(verified_user())
    response = client.post(reverse("portal:school_join", args=[oakfield.urn]), {"message": "x" * 1001})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="#id_message"' in html and "govuk-textarea--error" in html
    assert not JoinRequest.objects.exists()


def test_requester_can_withdraw_a_pending_request_only_their_own(client, oakfield):
    """The requester can withdraw; somebody else's request id is a 404 and stays pending."""
    mine = JoinRequestFactory(school=oakfield)
    theirs = JoinRequestFactory(school=oakfield)
    client.force_login(mine.user)
    assert client.post(reverse("portal:join_request_withdraw", args=[theirs.pk])).status_code == 404
    client.post(reverse("portal:join_request_withdraw", args=[mine.pk]))
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, theirs.status) == (Status.WITHDRAWN, Status.PENDING)


# --- Deciding -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["booker", "approver"])
def test_approver_accepts_with_a_role_and_the_requester_is_told(
    client, oakfield, approver, role, django_capture_on_commit_callbacks
):
    """Accepting makes the requester a member with the chosen role and emails them the outcome."""
    join_request = JoinRequestFactory(school=oakfield, user=verified_user(email="asker@example.org"))
    client.force_login(approver)
    page = client.get(reverse("portal:join_request_decide", args=[join_request.pk]))
    assert "asker@example.org" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:join_request_decide", args=[join_request.pk]), {"decision": role})
    assert response.status_code == 302
    assert SchoolMembership.objects.get(user=join_request.user, school=oakfield).role == role
    join_request.refresh_from_db()
    assert (join_request.status, join_request.granted_role, join_request.decided_by) == (
        Status.ACCEPTED,
        role,
        approver,
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["asker@example.org"]
    assert mail.outbox[0].subject == "You have joined Oakfield Primary School"
    assert (
        f"Your role is: {'Booker' if role == 'booker' else 'Approver (school business manager)'}" in mail.outbox[0].body
    )


def test_approver_declines_with_a_note_that_reaches_the_requester(
    client, oakfield, approver, django_capture_on_commit_callbacks
):
    """Declining adds no membership and emails the requester the note."""
    join_request = JoinRequestFactory(school=oakfield)
    client.force_login(approver)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("portal:join_request_decide", args=[join_request.pk]),
            {"decision": "decline", "note": "We don't know you, sorry."},
        )
    join_request.refresh_from_db()
    assert join_request.status == Status.DECLINED
    assert not SchoolMembership.objects.filter(user=join_request.user).exists()
    assert "declined" in mail.outbox[0].subject
    assert "We don't know you, sorry." in mail.outbox[0].body


def test_decision_without_a_choice_is_a_form_error(client, oakfield, approver):
    """Submitting no decision shows an error linked to the first radio and changes nothing."""
    join_request = JoinRequestFactory(school=oakfield)
    client.force_login(approver)
    response = client.post(reverse("portal:join_request_decide", args=[join_request.pk]), {"decision": ""})
    html = response.content.decode()
    assert 'href="#id_decision"' in html and 'id="id_decision"' in html
    assert "Choose whether to accept or decline the request." in html
    join_request.refresh_from_db()
    assert join_request.status == Status.PENDING


def test_deciding_twice_changes_nothing(client, oakfield, approver):
    """A second decision on the same request is refused with a message; the first decision stands."""
    join_request = JoinRequestFactory(school=oakfield)
    memberships.decline_join_request(join_request=join_request, decided_by=approver, note="No")
    client.force_login(approver)
    response = client.post(
        reverse("portal:join_request_decide", args=[join_request.pk]), {"decision": "approver"}, follow=True
    )
    assert "This request has already been decided: declined. Nothing was changed." in response.content.decode()
    join_request.refresh_from_db()
    assert join_request.status == Status.DECLINED
    assert not SchoolMembership.objects.filter(user=join_request.user).exists()


def test_deciding_another_schools_request_is_refused(client, oakfield, approver):
    """An approver cannot see or decide a request to another school: 404 in the portal, PermissionDenied below."""
    other_request = JoinRequestFactory(school=SchoolFactory())
    client.force_login(approver)
    url = reverse("portal:join_request_decide", args=[other_request.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"decision": "approver"}).status_code == 404
    with pytest.raises(PermissionDenied):
        memberships.accept_join_request(join_request=other_request, decided_by=approver, role="approver")
    other_request.refresh_from_db()
    assert other_request.status == Status.PENDING
    assert not SchoolMembership.objects.filter(user=other_request.user).exists()


def test_accepting_someone_who_already_joined_is_refused(oakfield, approver):
    """If the requester became a member meanwhile, accepting is refused and the request stays pending."""
    join_request = JoinRequestFactory(school=oakfield)
    SchoolMembershipFactory(user=join_request.user, school=oakfield)
    code = _refusal_code(memberships.accept_join_request, join_request=join_request, decided_by=approver, role="booker")
    assert code == "already_member"
    join_request.refresh_from_db()
    assert join_request.status == Status.PENDING


def test_unknown_role_is_refused(oakfield, approver):
    """Only booker and approver can be granted."""
    join_request = JoinRequestFactory(school=oakfield)
    code = _refusal_code(memberships.accept_join_request, join_request=join_request, decided_by=approver, role="owner")
    assert code == "invalid_role"


def test_approver_sees_requests_to_decide_on_the_dashboard(client, oakfield, approver):
    """The dashboard lists the school's pending requests for its approver, and the requester's own status."""
    join_request = JoinRequestFactory(school=oakfield, user=verified_user(full_name="Rory Requester"))
    JoinRequestFactory(school=SchoolFactory(), user=verified_user(full_name="Someone Elsewhere"))
    client.force_login(approver)
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert "Requests to join your schools" in html and "Rory Requester" in html
    assert "Someone Elsewhere" not in html
    assert reverse("portal:join_request_decide", args=[join_request.pk]) in html

    client.force_login(join_request.user)
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert "Your requests to join a school" in html and "Waiting for the school" in html
    assert "Requests to join your schools" not in html


def test_dashboard_suggests_schools_at_the_users_verified_domain(client, oakfield):
    """A confirmed address at a school's domain is offered a one-step join on the dashboard."""
    client.force_login(verified_user(email="new.teacher@oakfield-primary.example"))
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert "Join Oakfield Primary School" in html


# --- Managing members ---------------------------------------------------------------------------------


def test_approver_changes_a_role_and_removes_a_member(client, oakfield, approver):
    """An approver can promote a booker and remove a member."""
    booker = SchoolMembershipFactory(school=oakfield, role="booker")
    leaver = SchoolMembershipFactory(school=oakfield, role="booker")
    client.force_login(approver)
    members = client.get(reverse("portal:school_members", args=[oakfield.urn])).content.decode()
    assert booker.user.email in members and leaver.user.email in members
    client.post(reverse("portal:school_member_edit", args=[oakfield.urn, booker.pk]), {"role": "approver"})
    client.post(reverse("portal:school_member_remove", args=[oakfield.urn, leaver.pk]))
    booker.refresh_from_db()
    assert booker.role == "approver"
    assert not SchoolMembership.objects.filter(pk=leaver.pk).exists()


def test_last_approver_cannot_demote_or_remove_themselves(client, oakfield, approver):
    """The only approver is refused, with a message, when they try to leave the school without one."""
    own = SchoolMembership.objects.get(user=approver)
    client.force_login(approver)
    response = client.post(
        reverse("portal:school_member_edit", args=[oakfield.urn, own.pk]), {"role": "booker"}, follow=True
    )
    assert "You are the only approver at Oakfield Primary School" in response.content.decode()
    response = client.post(reverse("portal:school_member_remove", args=[oakfield.urn, own.pk]), follow=True)
    assert "You are the only approver at Oakfield Primary School" in response.content.decode()
    own.refresh_from_db()
    assert own.role == "approver"


def test_an_approver_with_a_colleague_may_step_down(client, oakfield, approver):
    """With a second approver, the first may become a booker, and is then sent to their dashboard."""
    SchoolMembershipFactory(school=oakfield, role="approver")
    own = SchoolMembership.objects.get(user=approver)
    client.force_login(approver)
    response = client.post(reverse("portal:school_member_edit", args=[oakfield.urn, own.pk]), {"role": "booker"})
    assert response["Location"] == reverse("portal:dashboard")
    own.refresh_from_db()
    assert own.role == "booker"


def test_member_of_another_school_is_a_404_on_this_schools_pages(client, oakfield, approver):
    """A membership id from another school cannot be changed through this school's URL."""
    elsewhere = SchoolMembershipFactory(role="booker")
    client.force_login(approver)
    url = reverse("portal:school_member_edit", args=[oakfield.urn, elsewhere.pk])
    assert client.post(url, {"role": "approver"}).status_code == 404
    remove = reverse("portal:school_member_remove", args=[oakfield.urn, elsewhere.pk])
    assert client.post(remove).status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.role == "booker"


# --- Concurrency (PostgreSQL: real row locks and a real partial unique index) ---------------------------


def _run_together(monkeypatch, target, name: str, *calls):
    """Run ``calls`` in threads that meet at a barrier inside ``target.name`` (after it runs).

    Where the code under test holds a lock, the second thread cannot reach the barrier: the first one's
    wait times out and it carries on alone, which is the serialisation the lock exists to give. Without
    the lock both threads pass the barrier together and race, and the test sees the damage.
    """
    barrier = threading.Barrier(len(calls), timeout=2)
    original = getattr(target, name)

    def meet_after(*args, **kwargs):
        result = original(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return result

    monkeypatch.setattr(target, name, meet_after)
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            call()
            outcomes[index] = "ok"
        except (ValidationError, PermissionDenied) as error:
            outcomes[index] = getattr(error, "code", None) or type(error).__name__
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(str(outcome) for outcome in outcomes)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_approvers_demoting_each_other_at_once_leave_the_school_an_approver(monkeypatch):
    """The school row lock serialises the two demotions: one wins, the other is no longer an approver."""
    school = SchoolFactory()
    first = SchoolMembershipFactory(school=school, role="approver")
    second = SchoolMembershipFactory(school=school, role="approver")
    outcomes = _run_together(
        monkeypatch,
        memberships,
        "_approver_count",
        lambda: memberships.change_member_role(membership=second, role="booker", changed_by=first.user),
        lambda: memberships.change_member_role(membership=first, role="booker", changed_by=second.user),
    )
    assert outcomes == ["PermissionDenied", "ok"]
    assert SchoolMembership.objects.filter(school=school, role="approver").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_approvers_deciding_one_request_at_once(monkeypatch):
    """The request row lock lets one decision through; the other is told it was already decided."""
    school = SchoolFactory()
    first = SchoolMembershipFactory(school=school, role="approver").user
    second = SchoolMembershipFactory(school=school, role="approver").user
    join_request = JoinRequestFactory(school=school)
    outcomes = _run_together(
        monkeypatch,
        memberships.access,
        "is_school_approver",
        lambda: memberships.accept_join_request(join_request=join_request, decided_by=first, role="approver"),
        lambda: memberships.decline_join_request(join_request=join_request, decided_by=second, note="no"),
    )
    assert outcomes == ["already_decided", "ok"]
    join_request.refresh_from_db()
    member = SchoolMembership.objects.filter(user=join_request.user, school=school).exists()
    assert member == (join_request.status == Status.ACCEPTED)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_request_sent_twice_at_once_is_kept_once(monkeypatch):
    """Both checks pass before either insert; the partial unique index keeps one pending request."""
    school = SchoolFactory()
    user = verified_user()
    outcomes = _run_together(
        monkeypatch,
        JoinRequest,
        "full_clean",
        lambda: memberships.request_to_join(user=user, school=school),
        lambda: memberships.request_to_join(user=user, school=school),
    )
    assert outcomes == ["duplicate_request", "ok"]
    assert JoinRequest.objects.filter(user=user, school=school, status=Status.PENDING).count() == 1


# --- The email task on a real worker (PostgreSQL + Redis) ---------------------------------------------


@pytest.fixture
def email_worker(tmp_path):
    """A `celery -A portal worker` on Redis, on queues unique to this test, using the test database.

    It sends mail with Django's file backend into ``tmp_path/mail``, one file per message.
    """
    db = settings.DATABASES["default"]
    suffix = f"_acc{uuid.uuid4().hex[:10]}"
    mail_dir = tmp_path / "mail"
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.dev",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        # django-environ drops the first slash of the path: four slashes make it absolute.
        "EMAIL_URL": f"filemail:///{mail_dir}",
        "CELERY_QUEUE_SUFFIX": suffix,
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    command = [
        str(Path(sys.executable).with_name("celery")),
        *("-A", "portal", "worker", "-Q", f"email{suffix}", "-n", f"accounts{suffix}@%h"),
        *("--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"),
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    client = Celery("accounts-test-client", broker=os.environ["REDIS_URL"], backend=os.environ["REDIS_URL"])
    try:
        yield client, f"email{suffix}", mail_dir, log_path
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        leftovers = list(redis.Redis.from_url(os.environ["REDIS_URL"]).scan_iter(match=f"*{suffix}*"))
        if leftovers:
            redis.Redis.from_url(os.environ["REDIS_URL"]).delete(*leftovers)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(120)
@pytest.mark.django_db(transaction=True)
def test_real_worker_sends_the_approver_email_once_however_often_the_task_runs(email_worker):
    """Through Redis, a worker emails the school's approver; the same task sent twice more sends nothing more."""
    client, queue, mail_dir, log_path = email_worker
    school = SchoolFactory(name="Worker Test School")
    approver = SchoolMembershipFactory(school=school, role="approver").user
    join_request = JoinRequestFactory(school=school)

    results = [client.send_task(tasks.send_join_request_to_approvers.name, args=[join_request.pk], queue=queue)]
    try:
        assert results[0].get(timeout=60) == 1
    except Exception:
        pytest.fail(f"the worker did not send the email; its log:\n{log_path.read_text()}")
    results += [
        client.send_task(tasks.send_join_request_to_approvers.name, args=[join_request.pk], queue=queue)
        for _ in range(2)
    ]
    assert [result.get(timeout=60) for result in results[1:]] == [0, 0]
    for result in results:
        result.forget()

    files = list(mail_dir.iterdir())
    assert len(files) == 1
    message = files[0].read_text()
    assert f"To: {approver.email}" in message and "Worker Test School" in message
    assert SentEmail.objects.get().recipient == approver.email
