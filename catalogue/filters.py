"""The GET forms behind the catalogue listing (/services/) and "What's on".

They only read the query string: every choice is a slug or code that is checked against the options on
offer, dates come as GOV.UK day/month/year inputs, and anything wrong becomes a message for the error
summary. Filters that are valid still apply when another one is not, so a typo never empties the page.
"""

from dataclasses import dataclass
from datetime import date

from django import forms


@dataclass(frozen=True)
class Option:
    value: str
    label: str


SORTS = [
    ("relevance", "Best match"),
    ("title", "Title (A to Z)"),
    ("date", "Soonest course date"),
    ("council", "Council"),
]
# Without a search term there is nothing to rank by relevance: title order is the default.
DEFAULT_SORT = "title"

MAX_QUERY_LENGTH = 200


class GovukDateParts:
    """Reads a GOV.UK date input (three boxes: day, month, year) out of a form's cleaned data."""

    def __init__(self, prefix: str, label: str):
        self.prefix = prefix
        self.label = label

    @property
    def names(self) -> tuple[str, str, str]:
        return (f"{self.prefix}_day", f"{self.prefix}_month", f"{self.prefix}_year")

    def clean(self, form: forms.Form) -> date | None:
        values = [(form.cleaned_data.get(name) or "").strip() for name in self.names]
        if not any(values):
            return None
        day, month, year = values
        missing = [part for part, value in zip(("day", "month", "year"), values, strict=True) if not value]
        if missing:
            form.add_error(self._first(missing), f"{self.label} must include a {' and '.join(missing)}")
            return None
        if not all(value.isdigit() for value in values):
            form.add_error(self.names[0], f"{self.label} must be a real date, written in numbers")
            return None
        if len(year) != 4:
            form.add_error(self.names[2], f"Year of {self.label.lower()} must include 4 numbers")
            return None
        try:
            return date(int(year), int(month), int(day))
        except ValueError:
            form.add_error(self.names[0], f"{self.label} must be a real date")
            return None

    def _first(self, missing: list[str]) -> str:
        return f"{self.prefix}_{missing[0]}"


def _date_part(max_length: int) -> forms.CharField:
    return forms.CharField(required=False, max_length=max_length, strip=True)


class ChoicesForm(forms.Form):
    """A GET form whose multiple-choice options are given when it is built (they come from the database)."""

    def _set_choices(self, name: str, options: list[Option]) -> None:
        self.fields[name].choices = [(o.value, o.label) for o in options]


def _page_field() -> forms.IntegerField:
    return forms.IntegerField(
        required=False,
        min_value=1,
        error_messages={
            "invalid": "The page number must be a whole number",
            "min_value": "The page number must be 1 or more",
        },
    )


class ListingFilterForm(ChoicesForm):
    q = forms.CharField(
        label="Search services",
        required=False,
        max_length=MAX_QUERY_LENGTH,
        error_messages={"max_length": f"Search for something shorter than {MAX_QUERY_LENGTH} characters"},
    )
    category = forms.MultipleChoiceField(
        label="Category", required=False, error_messages={"invalid_choice": "Choose categories from the list"}
    )
    council = forms.MultipleChoiceField(
        label="Council", required=False, error_messages={"invalid_choice": "Choose councils from the list"}
    )
    phase = forms.MultipleChoiceField(
        label="Phase", required=False, error_messages={"invalid_choice": "Choose phases from the list"}
    )
    kind = forms.MultipleChoiceField(
        label="Type of service", required=False, error_messages={"invalid_choice": "Choose types from the list"}
    )
    from_day = _date_part(2)
    from_month = _date_part(2)
    from_year = _date_part(4)
    to_day = _date_part(2)
    to_month = _date_part(2)
    to_year = _date_part(4)
    town = forms.ChoiceField(
        label="Town", required=False, error_messages={"invalid_choice": "Choose a town from the list"}
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=SORTS,
        error_messages={"invalid_choice": "Choose how to sort from the list"},
    )
    page = _page_field()

    date_from = GovukDateParts("from", "Date from")
    date_to = GovukDateParts("to", "Date to")

    def __init__(
        self,
        data,
        *,
        categories: list[Option],
        councils: list[Option],
        phases: list[Option],
        kinds: list[Option],
        towns: list[Option],
    ):
        super().__init__(data)
        self._set_choices("category", categories)
        self._set_choices("council", councils)
        self._set_choices("phase", phases)
        self._set_choices("kind", kinds)
        self.fields["town"].choices = [("", "Any town"), *[(o.value, o.label) for o in towns]]

    def clean(self):
        cleaned = super().clean()
        start = self.date_from.clean(self)
        end = self.date_to.clean(self)
        if start and end and end < start:
            self.add_error("to_day", "Date to must be the same as or after date from")
            start = end = None  # half of a range that is the wrong way round is no filter either
        cleaned["date_from"] = start
        cleaned["date_to"] = end
        # Whitespace only is no search; search syntax is stripped later (catalogue.listing.search_terms).
        cleaned["q"] = " ".join((cleaned.get("q") or "").split())
        return cleaned

    @property
    def date_errors(self) -> dict[str, list[str]]:
        """Errors of each date input as a whole (the template draws one error message per date group)."""
        self.is_valid()
        return {
            prefix: [e for name in parts.names for e in self.errors.get(name, [])]
            for prefix, parts in (("from", self.date_from), ("to", self.date_to))
        }


class WhatsOnFilterForm(ChoicesForm):
    council = forms.MultipleChoiceField(
        label="Council", required=False, error_messages={"invalid_choice": "Choose councils from the list"}
    )
    month = forms.ChoiceField(
        label="Month", required=False, error_messages={"invalid_choice": "Choose a month from the list"}
    )
    page = _page_field()

    def __init__(self, data, *, councils: list[Option], months: list[Option]):
        super().__init__(data)
        self._set_choices("council", councils)
        self.fields["month"].choices = [("", "Any month"), *[(o.value, o.label) for o in months]]
