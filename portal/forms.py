"""Forms of the portal app."""

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms


class SignupForm(AllauthSignupForm):
    """allauth's sign-up with the person's name, which appears on bookings and approvals."""

    full_name = forms.CharField(label="Full name", max_length=150)
    field_order = ["full_name", "email", "password1", "password2"]

    def save(self, request):
        user = super().save(request)
        user.full_name = self.cleaned_data["full_name"].strip()
        user.save(update_fields=["full_name"])
        return user
