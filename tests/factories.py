"""factory_boy factories for the portal's models, shared by every test package."""

import factory
from factory.django import DjangoModelFactory

from portal.models import Council, CouncilMembership, School, SchoolMembership, User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name", locale="en_GB")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class CouncilFactory(DjangoModelFactory):
    class Meta:
        model = Council
        django_get_or_create = ("la_code",)

    name = factory.Sequence(lambda n: f"Test Council {n}")
    short_name = factory.Sequence(lambda n: f"Test {n}")
    slug = factory.Sequence(lambda n: f"test-council-{n}")
    la_code = factory.Sequence(lambda n: f"{700 + n:03d}")
    invoice_prefix = factory.Sequence(lambda n: "T" + "".join(chr(65 + int(d)) for d in f"{n:03d}"))
    vat_number = "GB 000 0000 00 (test)"
    address = "1 Test Street\nTestville\nTE1 1ST"
    email = "council@example.org"
    bank_name = "Test Bank"
    bank_account_name = "Test Council"
    bank_sort_code = "00-00-00"
    bank_account_number = "00000000"
    remittance_email = "income@example.org"
    default_cost_centre = "CC-1"
    default_income_code = "IC-1"
    is_demo_data = True


class SchoolFactory(DjangoModelFactory):
    class Meta:
        model = School

    urn = factory.Sequence(lambda n: 900000 + n)
    la_code = "860"
    la_name = "Staffordshire"
    establishment_number = factory.Sequence(lambda n: f"{2000 + n % 8000:04d}")
    laestab = factory.LazyAttribute(lambda o: f"{o.la_code}{o.establishment_number}")
    name = factory.Sequence(lambda n: f"Test Primary School {n}")
    type_of_establishment = "Community school"
    type_group_code = 4
    type_group = "Local authority maintained schools"
    funding_route = "maintained"
    phase_of_education = "Primary"
    phase = "primary"
    status = "Open"
    number_on_roll = 210
    town = "Stafford"
    postcode = "ST16 1AA"


class SchoolMembershipFactory(DjangoModelFactory):
    class Meta:
        model = SchoolMembership

    user = factory.SubFactory(UserFactory)
    school = factory.SubFactory(SchoolFactory)
    role = "booker"


class CouncilMembershipFactory(DjangoModelFactory):
    class Meta:
        model = CouncilMembership

    user = factory.SubFactory(UserFactory)
    council = factory.SubFactory(CouncilFactory)
    role = "editor"
