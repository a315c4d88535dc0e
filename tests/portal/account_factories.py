"""Factories and helpers for the accounts, roles and joining tests."""

import factory
from allauth.account.models import EmailAddress
from factory.django import DjangoModelFactory

from portal.models import JoinRequest
from tests.factories import SchoolFactory, UserFactory


def with_email(user, *, verified: bool, email: str | None = None, primary: bool = True) -> EmailAddress:
    """Give the user an allauth EmailAddress (their own address unless another is named)."""
    return EmailAddress.objects.create(user=user, email=email or user.email, verified=verified, primary=primary)


def verified_user(**kwargs):
    """A user who has confirmed their email address, as allauth's mandatory verification requires to sign in."""
    user = UserFactory(**kwargs)
    with_email(user, verified=True)
    return user


class JoinRequestFactory(DjangoModelFactory):
    class Meta:
        model = JoinRequest

    user = factory.SubFactory(UserFactory)
    school = factory.SubFactory(SchoolFactory)
    message = "I am the new office manager."
