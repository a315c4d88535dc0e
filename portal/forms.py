"""Forms of the portal app: allauth's account forms in GOV.UK dress, and the school membership forms.

The allauth subclasses are wired in through ``ACCOUNT_FORMS`` in the settings. Labels follow GOV.UK
style (sentence case, "Confirm password" rather than "Password (again)"); autocomplete attributes let
browsers and password managers fill the right thing (WCAG 1.3.5).
"""

from allauth.account import forms as allauth_forms
from django import forms

from portal.forms_govuk import GovukFormMixin, GovukRadioSelect
from portal.models import SchoolRole

PASSWORD_HINT = "Use at least 10 characters. Do not use a common password, only numbers, or your name or email address."


def _relabel(form: forms.Form, **labels: str) -> None:
    for name, label in labels.items():
        if name in form.fields:
            form.fields[name].label = label


def _set_autocomplete(form: forms.Form, **values: str) -> None:
    for name, value in values.items():
        if name in form.fields:
            form.fields[name].widget.attrs["autocomplete"] = value


class LoginForm(GovukFormMixin, allauth_forms.LoginForm):
    """allauth's sign-in, made to tell django-axes who is trying.

    Axes counts failures per ``AXES_USERNAME_FORM_FIELD`` ("login") read from the credentials that reach
    ``authenticate()``; allauth passes the address under "email", so it is copied to "login" (lower-cased,
    so that ``Sam@School`` and ``sam@school`` share one counter).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, login="Email address", password="Password", remember="Keep me signed in on this device")
        self.fields["password"].help_text = ""  # the page links to password reset itself
        _set_autocomplete(self, login="email", password="current-password")

    def user_credentials(self) -> dict:
        credentials = super().user_credentials()
        credentials["login"] = (credentials.get("email") or self.cleaned_data.get("login", "")).lower()
        return credentials


class SignupForm(GovukFormMixin, allauth_forms.SignupForm):
    """allauth's sign-up with the person's name, which appears on bookings and approvals."""

    full_name = forms.CharField(label="Full name", max_length=150)
    field_order = ["full_name", "email", "password1", "password2"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, email="Email address", password1="Create a password", password2="Confirm your password")
        self.fields["email"].help_text = (
            "Use your work email address. If it is at your school's own domain, you can join your school "
            "straight away once you have confirmed it."
        )
        self.fields["password1"].help_text = PASSWORD_HINT
        _set_autocomplete(self, full_name="name", email="email", password1="new-password", password2="new-password")
        self.fields["full_name"].widget.attrs["spellcheck"] = "false"

    def save(self, request):
        user = super().save(request)
        user.full_name = self.cleaned_data["full_name"].strip()
        user.save(update_fields=["full_name"])
        return user


class ResetPasswordForm(GovukFormMixin, allauth_forms.ResetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, email="Email address")
        _set_autocomplete(self, email="email")


class ResetPasswordKeyForm(GovukFormMixin, allauth_forms.ResetPasswordKeyForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, password1="New password", password2="Confirm new password")
        self.fields["password1"].help_text = PASSWORD_HINT
        _set_autocomplete(self, password1="new-password", password2="new-password")


class ChangePasswordForm(GovukFormMixin, allauth_forms.ChangePasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, oldpassword="Current password", password1="New password", password2="Confirm new password")
        self.fields["oldpassword"].help_text = ""
        self.fields["password1"].help_text = PASSWORD_HINT
        _set_autocomplete(self, oldpassword="current-password", password1="new-password", password2="new-password")


class SetPasswordForm(GovukFormMixin, allauth_forms.SetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, password1="Password", password2="Confirm password")
        self.fields["password1"].help_text = PASSWORD_HINT
        _set_autocomplete(self, password1="new-password", password2="new-password")


class AddEmailForm(GovukFormMixin, allauth_forms.AddEmailForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, email="Email address")
        self.fields["email"].help_text = "We will send a link to this address to confirm it is yours."
        _set_autocomplete(self, email="email")


class ReauthenticateForm(GovukFormMixin, allauth_forms.ReauthenticateForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, password="Password")
        self.fields["password"].help_text = ""
        _set_autocomplete(self, password="current-password")


# --- School membership --------------------------------------------------------------------------------


class SchoolSearchForm(GovukFormMixin, forms.Form):
    q = forms.CharField(
        label="School name, URN or postcode",
        max_length=100,
        help_text="For example, Oakfield Primary, 124356 or ST16 2DH.",
        error_messages={"required": "Enter a school name, URN or postcode."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update({"spellcheck": "false", "autocomplete": "off"})


class JoinRequestForm(GovukFormMixin, forms.Form):
    message = forms.CharField(
        label="Message to the school (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Tell the school's approver who you are, for example your job title. Up to 1,000 characters.",
    )


DECISION_DECLINE = "decline"


class JoinDecisionForm(GovukFormMixin, forms.Form):
    decision = forms.ChoiceField(
        label="Your decision",
        choices=[
            (SchoolRole.BOOKER, "Accept as a booker (can book services for the school)"),
            (SchoolRole.APPROVER, "Accept as an approver (can also approve bookings and manage members)"),
            (DECISION_DECLINE, "Decline"),
        ],
        widget=GovukRadioSelect,
        error_messages={"required": "Choose whether to accept or decline the request."},
    )
    note = forms.CharField(
        label="Reason for declining (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="We will include this in the email to the person who asked.",
    )


class MemberRoleForm(GovukFormMixin, forms.Form):
    role = forms.ChoiceField(
        label="Role",
        choices=[
            (SchoolRole.BOOKER, "Booker: can book services for the school"),
            (SchoolRole.APPROVER, "Approver: can also approve bookings and manage members"),
        ],
        widget=GovukRadioSelect,
        error_messages={"required": "Choose a role."},
    )
