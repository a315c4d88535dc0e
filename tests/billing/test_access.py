"""Who sees what: every role against every document, ledger, settlement and remittance URL.

A refused request is a 403 or 404 (a sign-in redirect for anonymous users) and its body never carries the data;
an allowed one is answered. The expected rule is written out here independently of the code's own selectors.
"""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import RemittanceBatch
from billing.payouts import FakePayoutProvider, override_payout_provider
from billing.services.documents import credit_invoice_in_full, issue_invoice
from tests.billing.factories import exempt_course, make_invoice, people, standard_service
from tests.factories import SchoolFactory

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "booker",
    "approver",
    "other_school_booker",
    "other_school_approver",
    "finance",
    "editor",
    "course_admin",
    "other_council_finance",
    "other_council_editor",
    "other_council_course_admin",
    "admin",
]


@pytest.fixture
def world(councils, fake_gateway):
    """Two schools, two councils, every kind of document, a remittance batch, and a person in every role."""
    council, other_council = councils["staffordshire"], councils["shropshire"]
    school = SchoolFactory(name="Oakfield Primary", council=council, funding_route="maintained")
    other_school = SchoolFactory(name="Severn Valley Academy", council=other_council, funding_route="academy")
    invoice = make_invoice(council=council, school=school, lines=[exempt_course(), standard_service()])
    to_credit = make_invoice(council=council, school=school, lines=[exempt_course()])
    credit_note = credit_invoice_in_full(invoice=to_credit, reason="Course cancelled")
    recharge = issue_invoice(council=council, customer=school, lines=[standard_service()], route="recharge")
    other_invoice = make_invoice(council=other_council, school=other_school, po_number="PO-77")
    cast = people(school=school, council=council, other_school=other_school, other_council=other_council)
    batch = RemittanceBatch.objects.create(
        council=council, uploaded_by=cast["finance"], filename="bank.csv", content_sha256="0" * 64, rows=[]
    )
    other_batch = RemittanceBatch.objects.create(
        council=other_council,
        uploaded_by=cast["other_council_finance"],
        filename="other.csv",
        content_sha256="0" * 64,
        rows=[],
    )
    return {
        "council": council,
        "other_council": other_council,
        "school": school,
        "other_school": other_school,
        "documents": {"invoice": invoice, "credit_note": credit_note, "recharge": recharge, "other": other_invoice},
        "batch": batch,
        "other_batch": other_batch,
        "cast": cast,
    }


def _document_requests(document):
    pk = document.pk
    return [
        ("view", "GET", reverse("billing:document", args=[pk])),
        ("view", "GET", reverse("billing:document_pdf", args=[pk])),
        ("manage", "GET", reverse("billing:record_payment", args=[pk])),
        ("manage", "POST", reverse("billing:record_payment", args=[pk])),
        ("pay_page", "GET", reverse("billing:pay_invoice", args=[pk])),
        ("pay", "POST", reverse("billing:pay_setup", args=[pk])),
        ("pay", "POST", reverse("billing:pay_charge", args=[pk])),
        ("pay_complete", "POST", reverse("billing:pay_complete", args=[pk])),
    ]


def _council_requests(council, batch, month):
    slug = council.slug
    ym = [slug, month.year, month.month]
    return [
        ("finance", "GET", reverse("billing:council_documents", args=[slug])),
        ("finance", "GET", reverse("billing:ledger", args=[slug])),
        ("finance", "GET", reverse("billing:ledger_csv", args=[slug])),
        ("finance", "GET", reverse("billing:settlements", args=[slug])),
        ("finance", "GET", reverse("billing:settlement", args=ym)),
        ("finance", "GET", reverse("billing:settlement_csv", args=ym)),
        ("finance", "GET", reverse("billing:settlement_pdf", args=ym)),
        ("payout", "POST", reverse("billing:settlement_payout", args=ym)),
        ("finance", "GET", reverse("billing:remittances", args=[slug])),
        ("finance", "POST", reverse("billing:remittances", args=[slug])),
        ("finance", "GET", reverse("billing:remittance", args=[slug, batch.pk])),
        ("finance", "POST", reverse("billing:remittance_apply", args=[slug, batch.pk])),
    ]


def _may(role: str, kind: str, *, mine: bool, document=None) -> bool:
    """The rule, from the issue: schools see their own documents, finance its council's, admins everything."""
    if role == "anonymous":
        return False
    open_invoice = document is not None and document.is_invoice and document.outstanding_pence > 0
    if role == "admin":
        return kind != "pay" or open_invoice
    school_booker = "booker" if mine else "other_school_booker"
    school_approver = "approver" if mine else "other_school_approver"
    finance = "finance" if mine else "other_council_finance"
    if kind == "view":
        return role in (school_booker, school_approver, finance)
    if kind == "manage":
        return role == finance
    if kind in ("pay_page", "pay_complete"):
        return role == school_approver
    if kind == "pay":
        return role == school_approver and open_invoice
    if kind == "school":
        return role in (school_booker, school_approver)
    if kind == "finance":
        return role == finance
    if kind == "payout":
        return False
    raise AssertionError(kind)


def _secrets(document) -> list[str]:
    return [document.number, document.customer_name]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_against_every_billing_url(world, role):
    """Each role gets data only where the rule allows it; everywhere else 403/404 or sign-in, and no data."""
    user = world["cast"][role]
    month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    requests = []
    for name, document in world["documents"].items():
        mine = name != "other"
        for kind, method, url in _document_requests(document):
            requests.append((kind, method, url, mine, document, _secrets(document)))
    for school, mine in ((world["school"], True), (world["other_school"], False)):
        url = reverse("billing:school_documents", args=[school.urn])
        secrets = [d.number for d in world["documents"].values() if d.school_id == school.pk]
        requests.append(("school", "GET", url, mine, None, secrets))
    for council, batch, mine in (
        (world["council"], world["batch"], True),
        (world["other_council"], world["other_batch"], False),
    ):
        secrets = [d.number for d in world["documents"].values() if d.council_id == council.pk]
        for kind, method, url in _council_requests(council, batch, month):
            requests.append((kind, method, url, mine, None, [*secrets, batch.filename]))

    failures = []
    with override_payout_provider(FakePayoutProvider()):
        for kind, method, url, mine, document, secrets in requests:
            # A fresh session per request: a message one allowed request leaves (shown on the next page) must not
            # be mistaken for data leaking through the next one.
            client = Client()
            if user is not None:
                client.force_login(user)
            response = client.get(url) if method == "GET" else client.post(url, {}, content_type="application/json")
            allowed = _may(role, kind, mine=mine, document=document)
            if kind == "payout" and role == "admin":
                allowed = True
            refused = response.status_code in (403, 404) or (
                role == "anonymous" and response.status_code == 302 and "/accounts/login/" in response["Location"]
            )
            body = b"" if response.streaming else response.content
            leaked = [secret for secret in secrets if secret.encode() in body]
            if allowed and refused:
                failures.append(f"{method} {url}: refused ({response.status_code}) but {role} may")
            if not allowed and not refused:
                failures.append(f"{method} {url}: answered {response.status_code} to {role}")
            if not allowed and leaked:
                failures.append(f"{method} {url}: {role} was shown {leaked}")
    assert not failures, "\n".join(failures)


def test_finance_landing_lists_only_the_officers_councils(client, world):
    """A finance officer's landing page names their council only; editors have no finance councils."""
    mine, other = (reverse("billing:ledger", args=[c.slug]) for c in (world["council"], world["other_council"]))
    client.force_login(world["cast"]["finance"])
    page = client.get(reverse("billing:finance")).content.decode()
    assert mine in page and other not in page
    client.force_login(world["cast"]["other_council_editor"])
    page = client.get(reverse("billing:finance")).content.decode()
    assert "not a finance officer" in page and other not in page


def test_school_list_shows_only_its_own_documents(client, world):
    """A booker's list of documents holds their school's invoices, credit notes and recharges, no other's."""
    client.force_login(world["cast"]["booker"])
    page = client.get(reverse("billing:school_documents", args=[world["school"].urn])).content.decode()
    documents = world["documents"]
    for name in ("invoice", "credit_note", "recharge"):
        assert documents[name].number in page
    assert documents["other"].number not in page


def test_council_list_and_ledger_show_only_that_councils_data(client, world):
    """Finance of one council sees its documents and ledger, never the other council's lines."""
    client.force_login(world["cast"]["finance"])
    page = client.get(reverse("billing:council_documents", args=[world["council"].slug])).content.decode()
    assert world["documents"]["invoice"].number in page and world["documents"]["other"].number not in page
    today = timezone.localdate()
    ledger = client.get(
        reverse("billing:ledger_csv", args=[world["council"].slug]), {"month": today.month, "year": today.year}
    ).content.decode()
    assert world["documents"]["invoice"].number in ledger and world["documents"]["other"].number not in ledger
