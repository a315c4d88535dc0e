"""School membership: asking to join, deciding requests, changing roles and removing members.

Each action checks who is acting, then writes inside one transaction; refusals raise ``ValidationError``
(with a ``code`` and a message fit to show the user) or ``PermissionDenied``, and leave nothing written.
Emails go through Celery tasks enqueued on commit, so a rolled-back action sends nothing.

Locking: deciding a request locks the request row, so two approvers deciding at once cannot both win.
Changing or removing a member locks the school row first: it is the mutex for "the school keeps at least
one approver", which two approvers demoting each other at the same moment would otherwise break.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal import access, selectors
from portal.emails import render_email, send_email_once
from portal.models import JoinRequest, School, SchoolMembership, SchoolRole

Status = JoinRequest.Status


@dataclass(frozen=True)
class JoinOutcome:
    """What asking to join did: joined at once (``membership``) or left a request for the school."""

    membership: SchoolMembership | None = None
    join_request: JoinRequest | None = None

    @property
    def joined(self) -> bool:
        return self.membership is not None


def _enqueue(task_name: str, *args) -> None:
    # Imported here: the tasks module imports this one.
    from portal import tasks

    task = getattr(tasks, task_name)
    transaction.on_commit(lambda: task.delay(*args))


def _refuse(message: str, code: str):
    raise ValidationError(message, code=code)


def _check_role(role: str) -> str:
    if role not in SchoolRole.values:
        _refuse("Choose whether they will be a booker or an approver.", "invalid_role")
    return role


@transaction.atomic
def request_to_join(*, user, school: School, message: str = "") -> JoinOutcome:
    """Join ``school`` at once if a verified email of the user is at its domain; otherwise ask its approvers."""
    if not (user.is_authenticated and user.is_active):
        raise PermissionDenied("Sign in to join a school.")
    if SchoolMembership.objects.filter(user=user, school=school).exists():
        _refuse(f"You are already a member of {school.name}.", "already_member")
    if selectors.school_is_closed(school):
        _refuse(f"{school.name} is closed, so nobody can join it.", "school_closed")

    domain = selectors.normalise_domain(school.email_domain)
    if domain and domain in selectors.verified_email_domains(user=user):
        membership = SchoolMembership(user=user, school=school, role=SchoolRole.BOOKER)
        membership.full_clean()
        try:
            with transaction.atomic():
                membership.save()
        except IntegrityError:  # joined in another tab a moment ago
            _refuse(f"You are already a member of {school.name}.", "already_member")
        # A request made before the email address was verified is settled now.
        JoinRequest.objects.filter(user=user, school=school, status=Status.PENDING).update(
            status=Status.WITHDRAWN, decided_at=timezone.now()
        )
        _enqueue("send_domain_join_to_approvers", membership.pk)
        return JoinOutcome(membership=membership)

    if JoinRequest.objects.filter(user=user, school=school, status=Status.PENDING).exists():
        _refuse(
            f"You have already asked to join {school.name}. The school's approver will decide.", "duplicate_request"
        )
    join_request = JoinRequest(user=user, school=school, message=message.strip())
    join_request.full_clean()
    try:
        with transaction.atomic():
            join_request.save()
    except IntegrityError:  # the same request sent twice at once: the partial unique index keeps one
        _refuse(
            f"You have already asked to join {school.name}. The school's approver will decide.", "duplicate_request"
        )
    _enqueue("send_join_request_to_approvers", join_request.pk)
    return JoinOutcome(join_request=join_request)


def _lock_pending_request(*, join_request: JoinRequest, acting_user) -> JoinRequest:
    locked = JoinRequest.objects.select_for_update().select_related("school", "user").get(pk=join_request.pk)
    if not access.is_school_approver(acting_user, locked.school):
        raise PermissionDenied("Only the school's approvers can decide this request.")
    if locked.status != Status.PENDING:
        _refuse(
            f"This request has already been decided: {locked.get_status_display().lower()}. Nothing was changed.",
            "already_decided",
        )
    return locked


@transaction.atomic
def accept_join_request(*, join_request: JoinRequest, decided_by, role: str) -> SchoolMembership:
    """Make the requester a member with ``role``; the requester is emailed."""
    role = _check_role(role)
    locked = _lock_pending_request(join_request=join_request, acting_user=decided_by)
    if selectors.school_is_closed(locked.school):
        _refuse(f"{locked.school.name} is closed, so nobody can join it. Decline the request instead.", "school_closed")
    if not locked.user.is_active:
        _refuse("This person's account has been closed. Decline the request instead.", "inactive_user")
    if SchoolMembership.objects.filter(user=locked.user, school=locked.school).exists():
        _refuse(f"{locked.user} is already a member of {locked.school.name}.", "already_member")
    membership = SchoolMembership(user=locked.user, school=locked.school, role=role)
    membership.full_clean()
    membership.save()
    locked.status = Status.ACCEPTED
    locked.granted_role = role
    locked.decided_by = decided_by
    locked.decided_at = timezone.now()
    locked.full_clean()
    locked.save(update_fields=["status", "granted_role", "decided_by", "decided_at"])
    _enqueue("send_join_request_decision", locked.pk)
    return membership


@transaction.atomic
def decline_join_request(*, join_request: JoinRequest, decided_by, note: str = "") -> JoinRequest:
    """Decline with an optional note, which the requester is emailed."""
    locked = _lock_pending_request(join_request=join_request, acting_user=decided_by)
    locked.status = Status.DECLINED
    locked.decision_note = note.strip()
    locked.decided_by = decided_by
    locked.decided_at = timezone.now()
    locked.full_clean()
    locked.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    _enqueue("send_join_request_decision", locked.pk)
    return locked


@transaction.atomic
def withdraw_join_request(*, join_request: JoinRequest, user) -> JoinRequest:
    """The requester takes back a pending request."""
    locked = JoinRequest.objects.select_for_update().select_related("school").get(pk=join_request.pk)
    if locked.user_id != user.pk:
        raise PermissionDenied("This is not your request.")
    if locked.status != Status.PENDING:
        _refuse("This request has already been decided. Nothing was changed.", "already_decided")
    locked.status = Status.WITHDRAWN
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "decided_at"])
    return locked


def _lock_membership(*, membership: SchoolMembership, acting_user) -> SchoolMembership:
    # The school row first, always: every membership change of a school queues here (see module docstring).
    school = School.objects.select_for_update().get(pk=membership.school_id)
    if not access.is_school_approver(acting_user, school):
        raise PermissionDenied("Only the school's approvers can manage its members.")
    locked = SchoolMembership.objects.select_related("user", "school").filter(pk=membership.pk).first()
    if locked is None:
        _refuse("That person is no longer a member of the school. Nothing was changed.", "not_member")
    return locked


def _approver_count(*, school_id: int) -> int:
    return SchoolMembership.objects.filter(school_id=school_id, role=SchoolRole.APPROVER).count()


def _refuse_if_last_approver(*, membership: SchoolMembership, acting_user, action: str) -> None:
    if membership.role == SchoolRole.APPROVER and _approver_count(school_id=membership.school_id) <= 1:
        who = "You are" if membership.user_id == acting_user.pk else f"{membership.user} is"
        _refuse(
            f"{who} the only approver at {membership.school.name}, so cannot be {action}. "
            "Make someone else an approver first.",
            "last_approver",
        )


@transaction.atomic
def change_member_role(*, membership: SchoolMembership, role: str, changed_by) -> SchoolMembership:
    """Make a member a booker or an approver; a school always keeps at least one approver."""
    role = _check_role(role)
    locked = _lock_membership(membership=membership, acting_user=changed_by)
    if locked.role == role:
        return locked
    if role == SchoolRole.BOOKER:
        _refuse_if_last_approver(membership=locked, acting_user=changed_by, action="made a booker")
    locked.role = role
    locked.full_clean()
    locked.save(update_fields=["role"])
    return locked


@transaction.atomic
def remove_member(*, membership: SchoolMembership, removed_by) -> None:
    """Remove someone from the school; a school always keeps at least one approver."""
    locked = _lock_membership(membership=membership, acting_user=removed_by)
    _refuse_if_last_approver(membership=locked, acting_user=removed_by, action="removed")
    locked.delete()


# --- Emails (called by the tasks in portal/tasks.py) ---------------------------------------------------


def _partnership_admin_emails() -> list[tuple[int, str]]:
    users = get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("pk")
    return list(users.values_list("pk", "email"))


def notify_approvers_of_request(*, join_request_id: int) -> int:
    """Email each approver (or, if the school has none, each partnership admin) about a pending request.

    Returns how many emails this call sent; a second call sends none.
    """
    join_request = JoinRequest.objects.select_related("user", "school").filter(pk=join_request_id).first()
    if join_request is None or join_request.status != Status.PENDING:
        return 0  # decided or withdrawn before the email went: there is nothing to ask
    recipients = selectors.approver_emails(school=join_request.school)
    to_admins = not recipients
    if to_admins:
        recipients = _partnership_admin_emails()
    subject, body = render_email(
        template="portal/emails/join_request_received",
        context={"join_request": join_request, "to_admins": to_admins},
    )
    return sum(
        send_email_once(key=f"join-request:{join_request.pk}:ask:{user_id}", to=email, subject=subject, body=body)
        for user_id, email in recipients
    )


def notify_requester_of_decision(*, join_request_id: int) -> int:
    """Email the requester whether they were accepted (and as what) or declined (and why)."""
    join_request = JoinRequest.objects.select_related("user", "school").filter(pk=join_request_id).first()
    if join_request is None or join_request.status not in (Status.ACCEPTED, Status.DECLINED):
        return 0
    subject, body = render_email(template="portal/emails/join_request_decided", context={"join_request": join_request})
    return int(
        send_email_once(
            key=f"join-request:{join_request.pk}:decision", to=join_request.user.email, subject=subject, body=body
        )
    )


def notify_approvers_of_domain_join(*, membership_id: int) -> int:
    """Tell a school's approvers that someone joined by their verified email domain, so nobody is a surprise."""
    membership = SchoolMembership.objects.select_related("user", "school").filter(pk=membership_id).first()
    if membership is None:
        return 0
    subject, body = render_email(template="portal/emails/joined_by_domain", context={"membership": membership})
    return sum(
        send_email_once(key=f"membership:{membership.pk}:joined:{user_id}", to=email, subject=subject, body=body)
        for user_id, email in selectors.approver_emails(school=membership.school)
        if user_id != membership.user_id
    )
