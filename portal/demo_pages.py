"""The site's information pages: accessibility statement, cookies and privacy notice.

The footer of every page links to /accessibility/, /cookies/ and /privacy/, so these pages are part of the
site, not sample content: ``ensure_information_pages`` creates any that are missing under the home page and
publishes them. A page that exists already is left alone, because once it is published it belongs to the
editors in Wagtail, and a re-seed must never undo their changes.

What the cookies page says must stay true of the code: the site sets only Django's session and CSRF
cookies (messages are kept in the session, see MESSAGE_STORAGE), and Stripe's fraud-prevention cookies
when someone pays by card. What the privacy notice promises about keeping data is a rule later work relies
on, in particular that delegates' access and dietary needs are deleted 30 days after the course.
"""

from dataclasses import dataclass
from datetime import date

REVIEWED = date(2026, 11, 20)


def _h2(text: str) -> dict:
    return {"type": "heading", "value": {"text": text, "level": "h2"}}


def _h3(text: str) -> dict:
    return {"type": "heading", "value": {"text": text, "level": "h3"}}


def _p(html: str) -> dict:
    return {"type": "paragraph", "value": html}


def _callout(html: str) -> dict:
    return {"type": "callout", "value": {"text": html}}


@dataclass(frozen=True)
class InformationPageContent:
    slug: str
    title: str
    summary: str
    body: list[dict]


ACCESSIBILITY = InformationPageContent(
    slug="accessibility",
    title="Accessibility statement",
    summary="How accessible the Tri-Council Schools Portal is, what we know is not yet right, and how to tell us "
    "about a problem.",
    body=[
        _p(
            "<p>This statement applies to the Tri-Council Schools Portal, where schools book training and buy "
            "services from Staffordshire County Council, Shropshire Council and Worcestershire County Council. "
            "The three councils run the portal together.</p>"
            "<p>We want as many people as possible to be able to use this website. For example, you should be "
            "able to:</p>"
            "<ul><li>change colours, contrast levels and fonts using your browser or device settings</li>"
            "<li>zoom in up to 400% without the text spilling off the screen</li>"
            "<li>move around the whole website using just a keyboard</li>"
            "<li>move around most of the website using speech recognition software</li>"
            "<li>listen to the website using a screen reader (including the latest versions of JAWS, NVDA "
            "and VoiceOver)</li></ul>"
            "<p>We have also made the text as simple as we can. AbilityNet has advice on making your device "
            "easier to use if you have a disability.</p>"
        ),
        _h2("How accessible this website is"),
        _p(
            "<p>We build every page with GOV.UK Frontend, which is tested with assistive technologies, and we "
            "check pages automatically for accessibility problems every time the portal changes. We know some "
            "parts are not yet fully accessible:</p>"
            "<ul><li>some documents that councils attach to service pages, such as course handouts and service "
            "specifications, are PDF or Word files that may not work well with a screen reader</li>"
            "<li>the content management screens that council staff use have not been tested as fully as the "
            "pages schools use</li></ul>"
        ),
        _h2("Feedback and contact information"),
        _p(
            "<p>If you need information on this website in a different format, such as accessible PDF, large "
            "print, easy read, audio recording or braille, email "
            '<a href="mailto:accessibility@tricouncil.example">accessibility@tricouncil.example</a>. '
            "Tell us the page address, the format you need and any assistive technology you use.</p>"
            "<p>We will reply within 5 working days.</p>"
        ),
        _h2("Reporting accessibility problems with this website"),
        _p(
            "<p>We are always looking to improve the accessibility of this website. If you find a problem "
            "that is not listed on this page, or you think we are not meeting accessibility requirements, "
            'email <a href="mailto:accessibility@tricouncil.example">accessibility@tricouncil.example</a>.</p>'
        ),
        _h2("Enforcement procedure"),
        _p(
            "<p>The Equality and Human Rights Commission (EHRC) is responsible for enforcing the Public Sector "
            "Bodies (Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018 (the "
            "accessibility regulations). If you are not happy with how we respond to your complaint, contact "
            "the Equality Advisory and Support Service (EASS).</p>"
        ),
        _h2("Technical information about this website's accessibility"),
        _p(
            "<p>Staffordshire County Council, Shropshire Council and Worcestershire County Council are "
            "committed to making this website accessible, in accordance with the accessibility "
            "regulations.</p>"
        ),
        _h3("Compliance status"),
        _p(
            "<p>This website is partially compliant with the Web Content Accessibility Guidelines version 2.2 "
            "AA standard, because of the problems listed under ‘How accessible this website is’.</p>"
        ),
        _h3("Content that is not within the scope of the accessibility regulations"),
        _p(
            "<p>The regulations do not require us to fix PDFs or other documents published before 23 September "
            "2018 if they are not essential to providing our services. Any new document that you need in order "
            "to book or use a service will be accessible, or available in an accessible format on request.</p>"
        ),
        _h2("How we tested this website"),
        _p(
            "<p>Every page that schools use is checked with the axe accessibility engine in an automated "
            "browser each time the portal changes, and we check pages by hand with a keyboard and a screen "
            "reader before new features are released.</p>"
        ),
        _h2("Preparation of this accessibility statement"),
        _p("<p>This statement was prepared on 20 November 2026. It was last reviewed on 20 November 2026.</p>"),
    ],
)

COOKIES = InformationPageContent(
    slug="cookies",
    title="Cookies",
    summary="Cookies are small files saved on your device. We only use the cookies the portal needs to work.",
    body=[
        _callout(
            "<p>We only use essential cookies. We do not use analytics, advertising or tracking cookies, so "
            "we do not ask you to accept cookies.</p>"
        ),
        _h2("Essential cookies"),
        _p(
            "<p>Essential cookies keep the portal secure and let you sign in and book. You cannot turn them "
            "off in the portal, but you can block or delete them in your browser settings. If you do, you "
            "will not be able to sign in.</p>"
        ),
        _h3("sessionid"),
        _p(
            "<p>Keeps you signed in as you move from page to page, and carries short messages such as "
            "‘Booking confirmed’ to the next page. It is deleted when you sign out. If you did not choose to "
            "stay signed in, it is deleted when you close your browser; if you did, it expires after "
            "2 weeks.</p>"
        ),
        _h3("csrftoken"),
        _p(
            "<p>Protects the forms you fill in from being submitted by another website pretending to be you "
            "(a ‘cross-site request forgery’). It contains a random value and nothing about you. It expires "
            "after 1 year.</p>"
        ),
        _h2("Cookies set when you pay by card"),
        _p(
            "<p>Card payments are handled by our payment provider, Stripe. When you open the card payment "
            "page, Stripe sets cookies (<strong>__stripe_mid</strong>, which expires after 1 year, and "
            "<strong>__stripe_sid</strong>, which expires after 30 minutes) to prevent fraud. They are "
            "essential to taking a payment safely, and Stripe uses them only for that.</p>"
        ),
        _h2("Cookies for council staff"),
        _p(
            "<p>The content management screens that council staff use remember whether the side menu is "
            "open or closed, in a cookie called <strong>wagtail_sidebar_collapsed</strong>. It is only set for "
            "council staff who use those screens.</p>"
        ),
        _h2("Changes to this page"),
        _p(
            "<p>If we ever want to use a cookie that is not essential, we will list it here first and ask "
            "for your permission before setting it.</p>"
        ),
    ],
)

PRIVACY = InformationPageContent(
    slug="privacy",
    title="Privacy notice",
    summary="What personal information the portal keeps, why we need it, who sees it and how long we keep it.",
    body=[
        _h2("Who we are"),
        _p(
            "<p>The Tri-Council Schools Portal is run jointly by Staffordshire County Council, Shropshire "
            "Council and Worcestershire County Council. The three councils are joint controllers of the "
            "personal information in the portal. When you book or buy a service, the council that provides "
            "it is also responsible for the information about that booking.</p>"
            "<p>You can contact the portal's data protection lead at "
            '<a href="mailto:privacy@tricouncil.example">privacy@tricouncil.example</a> about anything in '
            "this notice.</p>"
        ),
        _h2("What we keep"),
        _p(
            "<ul>"
            "<li><strong>Your account:</strong> your name, work email address, job title and password. We "
            "never store the password itself, only a scrambled version of it that cannot be turned back.</li>"
            "<li><strong>The schools you work for</strong> and your role at each (booker or approver), and "
            "any requests you make to join a school.</li>"
            "<li><strong>Bookings:</strong> the names, work email addresses and job roles of the people booked "
            "on courses (delegates), who booked them, who approved the booking, and whether each delegate "
            "attended.</li>"
            "<li><strong>Access and dietary needs</strong> of delegates, if the delegate or the person booking "
            "tells us about them.</li>"
            "<li><strong>Orders, invoices and payments:</strong> what your school bought, purchase order "
            "numbers, invoices, credit notes and payments. Card numbers go straight to our payment provider, "
            "Stripe: the portal never sees or stores them.</li>"
            "<li><strong>Security records:</strong> when you sign in, and failed attempts to sign in, with the "
            "internet (IP) address they came from.</li>"
            "</ul>"
        ),
        _h2("Why we keep it"),
        _p(
            "<ul>"
            "<li>To run your account and let you act for your school. The legal basis is our public task of "
            "supporting schools, and the contract between your school and each council.</li>"
            "<li>To run courses and services, send confirmations and reminders, and keep registers of who "
            "attended. The legal basis is the contract with your school.</li>"
            "<li>To invoice, take payments and keep financial records, which the law requires us to keep. "
            "The legal basis is our legal obligations, including those to HM Revenue and Customs.</li>"
            "<li>To keep the portal secure and stop people guessing passwords. The legal basis is our public "
            "task.</li>"
            "</ul>"
        ),
        _h3("Access and dietary needs"),
        _p(
            "<p>Access needs and dietary requirements can reveal information about a person's health or "
            "religion, which the law treats as special category information. We only keep it if the delegate, "
            "or someone booking with their agreement, gives it to us. We use it only to make arrangements for "
            "the course. In the portal only your school and the course administrators of the council running "
            "the course can see it; they share it only with the trainer and the venue who need it. You can ask "
            "us to remove it at any time.</p>"
        ),
        _h2("How long we keep it"),
        _p(
            "<ul>"
            "<li><strong>Delegates' access and dietary needs:</strong> deleted 30 days after the course ends, "
            "or 30 days after the booking is cancelled.</li>"
            "<li><strong>Delegates' names and attendance:</strong> 6 years after the end of the financial year "
            "in which the course ran, because they support the invoice and the record of training.</li>"
            "<li><strong>Orders, invoices, credit notes and payments:</strong> 6 years after the end of the "
            "financial year they belong to, as the law requires for financial and VAT records.</li>"
            "<li><strong>Your account:</strong> until you ask us to close it. After that, we keep only what is "
            "in the records above, for the times above.</li>"
            "<li><strong>Records of sign-ins and failed attempts to sign in:</strong> 90 days.</li>"
            "</ul>"
        ),
        _h2("Who we share it with"),
        _p(
            "<ul>"
            "<li>The council that provides a course or service sees the bookings and orders for it. Councils "
            "do not see each other's bookings.</li>"
            "<li>Your school's approvers see the bookings made for your school.</li>"
            "<li>Trainers and venues see the delegate list for their course, with any access and dietary "
            "needs.</li>"
            "<li>Stripe processes card payments for us. Stripe may process information outside the UK; when "
            "it does, it uses safeguards approved under UK data protection law.</li>"
            "<li>The company that hosts the portal stores the information for us and may not use it for "
            "anything else.</li>"
            "</ul>"
            "<p>We do not sell your information, and we do not use it for marketing.</p>"
        ),
        _h2("Your rights"),
        _p(
            "<p>You can download a copy of the information the portal holds about you at any time from your "
            'account (<a href="/bookings/your-data/">download your data</a>).</p>'
            "<p>You can also ask us for a copy of the information we hold about you, and ask us to correct it, "
            "delete it, or stop or limit how we use it. Some of these rights depend on why we hold the "
            "information: for example, we cannot delete an invoice that the law tells us to keep. Email "
            '<a href="mailto:privacy@tricouncil.example">privacy@tricouncil.example</a> and we will reply '
            "within one month.</p>"
        ),
        _h2("Cookies"),
        _p('<p>The portal uses only essential cookies. Read our <a href="/cookies/">cookies page</a>.</p>'),
        _h2("How to complain"),
        _p(
            "<p>If you are unhappy with how we have used your information, email "
            '<a href="mailto:privacy@tricouncil.example">privacy@tricouncil.example</a> first. You can also '
            "complain to the Information Commissioner's Office (ICO), Wycliffe House, Water Lane, Wilmslow, "
            "Cheshire SK9 5AF, telephone 0303 123 1113.</p>"
        ),
    ],
)

INFORMATION_PAGES: tuple[InformationPageContent, ...] = (ACCESSIBILITY, COOKIES, PRIVACY)


def ensure_information_pages() -> list[str]:
    """Create and publish any missing information page under the home page; returns the slugs created."""
    from portal.models import HomePage, InformationPage

    home = HomePage.objects.first()
    if home is None:
        raise RuntimeError("There is no home page: run `manage.py migrate` first.")
    existing = set(home.get_children().values_list("slug", flat=True))
    created = []
    for content in INFORMATION_PAGES:
        if content.slug in existing:
            continue
        page = InformationPage(
            title=content.title,
            slug=content.slug,
            summary=content.summary,
            body=content.body,
            last_reviewed=REVIEWED,
        )
        home.add_child(instance=page)
        page.save_revision().publish()
        created.append(content.slug)
    return created
