"""The one StreamBlock for body content, shared by every page type (the catalogue uses it too).

It lives in the lowest app so that higher apps can use it without the portal importing them.
"""

from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(max_length=120)
    level = blocks.ChoiceBlock(choices=[("h2", "Heading 2"), ("h3", "Heading 3")], default="h2")

    class Meta:
        icon = "title"
        template = "portal/blocks/heading.html"
        preview_value = {"text": "What the course covers", "level": "h2"}


class CalloutBlock(blocks.StructBlock):
    text = blocks.RichTextBlock(features=["bold", "link"])

    class Meta:
        icon = "warning"
        template = "portal/blocks/callout.html"
        preview_value = {"text": "<p>Places are limited to two delegates per school.</p>"}


class DocumentBlock(blocks.StructBlock):
    document = DocumentChooserBlock()
    title = blocks.CharBlock(required=False, help_text="Defaults to the document's title.")

    class Meta:
        icon = "doc-full"
        template = "portal/blocks/document.html"


class FaqBlock(blocks.StructBlock):
    question = blocks.CharBlock(max_length=200)
    answer = blocks.RichTextBlock(features=["bold", "italic", "link", "ol", "ul"])

    class Meta:
        icon = "help"
        template = "portal/blocks/faq.html"
        preview_value = {
            "question": "Can I send a substitute?",
            "answer": "<p>Yes, until the course starts.</p>",
        }


class BodyBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(
        features=["h2", "h3", "bold", "italic", "link", "ol", "ul", "document-link"],
        icon="pilcrow",
        template="portal/blocks/paragraph.html",
        preview_value="<p>Our safeguarding training meets the Keeping Children Safe in Education guidance.</p>",
    )
    callout = CalloutBlock()
    document = DocumentBlock()
    faq = FaqBlock()
