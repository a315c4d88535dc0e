"""Django forms that render as GOV.UK Frontend form groups.

Mix ``GovukFormMixin`` into a form (before ``forms.Form``) and every field renders, through ``{{ form }}``,
``{{ form.field.as_field_group }}`` or ``includes/field.html``, with the markup the GOV.UK Design System asks
for: ``govuk-input`` (``govuk-input--error`` when the field has errors), a hint with id ``<field id>-hint``,
an error message with id ``<field id>-error``, ``aria-describedby`` pointing at whichever of the two is
shown, radios and checkboxes inside a fieldset with a legend, and no placeholders (GOV.UK advises against
them). ``includes/error_summary.html`` links each error to ``#<field id>``; radios are given the field's own
id on their first option so that link lands on a real element.

The widget classes are added by ``GovukBoundField.build_widget_attrs`` at render time, when the errors are
known, so forms need no per-field ``attrs`` of their own.
"""

from django import forms
from django.forms.boundfield import BoundField
from django.forms.renderers import DjangoTemplates
from django.forms.widgets import Input
from django.template import loader

ERROR_CLASSES = {
    "govuk-input": "govuk-input--error",
    "govuk-textarea": "govuk-textarea--error",
    "govuk-select": "govuk-select--error",
    "govuk-file-upload": "govuk-file-upload--error",
}


def govuk_widget_class(widget: forms.Widget) -> str:
    """The GOV.UK class a widget's element carries."""
    # CheckboxSelectMultiple is a subclass of RadioSelect: test it first.
    if isinstance(widget, forms.CheckboxSelectMultiple | forms.CheckboxInput):
        return "govuk-checkboxes__input"
    if isinstance(widget, forms.RadioSelect):
        return "govuk-radios__input"
    if isinstance(widget, forms.Textarea):
        return "govuk-textarea"
    if isinstance(widget, forms.Select):
        return "govuk-select"
    if isinstance(widget, forms.ClearableFileInput | forms.FileInput):
        return "govuk-file-upload"
    if isinstance(widget, Input):
        return "govuk-input"
    return ""


class GovukRadioSelect(forms.RadioSelect):
    """Radios whose first option carries the field's own id, so labels and error-summary links find it."""

    def id_for_label(self, id_, index=None):
        if not id_ or index is None or str(index) == "0":
            return id_
        return f"{id_}-{index}"


class GovukCheckboxSelectMultiple(forms.CheckboxSelectMultiple):
    """Checkboxes whose first option carries the field's own id (see GovukRadioSelect)."""

    def id_for_label(self, id_, index=None):
        if not id_ or index is None or str(index) == "0":
            return id_
        return f"{id_}-{index}"


class GovukBoundField(BoundField):
    """A bound field that gives its widget GOV.UK classes, error state and accessible descriptions."""

    @property
    def hint_id(self) -> str:
        return f"{self.auto_id}-hint" if self.auto_id else ""

    @property
    def error_id(self) -> str:
        return f"{self.auto_id}-error" if self.auto_id else ""

    @property
    def aria_describedby(self):
        # A describedby set on the widget by the form's author wins, as in Django's own BoundField.
        if self.field.widget.attrs.get("aria-describedby"):
            return None
        ids = []
        if self.auto_id and not self.is_hidden:
            if self.help_text:
                ids.append(self.hint_id)
            if self.errors:
                ids.append(self.error_id)
        return " ".join(ids)

    @property
    def govuk_kind(self) -> str:
        """What the field template draws: radios, checkboxes, checkbox (a single one) or input."""
        widget = self.field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple):
            return "checkboxes"
        if isinstance(widget, forms.RadioSelect):
            return "radios"
        if isinstance(widget, forms.CheckboxInput):
            return "checkbox"
        return "input"

    def build_widget_attrs(self, attrs, widget=None):
        widget = widget or self.field.widget
        attrs = super().build_widget_attrs(attrs, widget)
        base = govuk_widget_class(widget)
        if base:
            classes = [base]
            if self.errors and base in ERROR_CLASSES:
                classes.append(ERROR_CLASSES[base])
            # Keep modifiers the form's author set on the widget, e.g. govuk-input--width-10.
            extra = widget.attrs.get("class", "")
            classes.extend(c for c in extra.split() if c not in classes)
            attrs["class"] = " ".join(classes)
        if widget.attrs.get("placeholder"):
            attrs["placeholder"] = False  # False drops the attribute when Django renders it.
        if isinstance(widget, forms.Textarea) and widget.attrs.get("maxlength"):
            # GOV.UK advises against maxlength on text areas: browsers cut pasted text silently. The
            # form still refuses an over-long value, with an error that says so.
            attrs["maxlength"] = False
        if isinstance(widget, forms.EmailInput):
            attrs.setdefault("spellcheck", "false")
            attrs.setdefault("autocomplete", widget.attrs.get("autocomplete", "email"))
        return attrs


class GovukFormRenderer(DjangoTemplates):
    """Renders forms and field groups with the portal's GOV.UK templates; widgets with Django's own."""

    form_template_name = "portal/forms/form.html"
    field_template_name = "portal/forms/field.html"
    bound_field_class = GovukBoundField

    def get_template(self, template_name):
        # Our templates live in the project's templates/ folder (the site engine); Django's widget
        # templates live in django/forms/templates, which only the renderer's own engine searches.
        if template_name.startswith("portal/forms/"):
            return loader.get_template(template_name)
        return super().get_template(template_name)


# One renderer for the process: building its template engine is not free.
GOVUK_RENDERER = GovukFormRenderer()


class GovukFormMixin:
    """Mix into a Form or ModelForm (first in the bases) to render it the GOV.UK way."""

    default_renderer = GOVUK_RENDERER
    bound_field_class = GovukBoundField
