"""The date range a report covers: whole days in the site's time zone, and the form that asks for one."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone

DEFAULT_DAYS = 30
MAX_DAYS = 366

# Text, not type="date": the browser shows a date input in its locale's format
# (10/31/2026), and the pages say dates one way only, ISO 8601.
ISO_DATE_INPUT = {"pattern": r"\d{4}-\d{2}-\d{2}", "placeholder": "YYYY-MM-DD", "size": "10", "inputmode": "numeric"}


@dataclass(frozen=True)
class Period:
    """Whole days, both ends included, in the site's time zone."""

    start: date
    end: date

    @classmethod
    def last_days(cls, days: int = DEFAULT_DAYS, *, today: date | None = None) -> "Period":
        end = today or timezone.localdate()
        return cls(start=end - timedelta(days=days - 1), end=end)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def bounds(self) -> tuple[datetime, datetime]:
        # The last day there is (9999-12-31) has no next day to end before.
        end = _day_start(self.end + timedelta(days=1)) if self.end < date.max else timezone.make_aware(datetime.max)
        return _day_start(self.start), end


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class PeriodForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs=ISO_DATE_INPUT, format="%Y-%m-%d"))
    end = forms.DateField(widget=forms.DateInput(attrs=ISO_DATE_INPUT, format="%Y-%m-%d"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError("The start date is after the end date.")
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(f"Choose at most {MAX_DAYS} days.")
        return cleaned

    def period(self) -> Period:
        return Period(start=self.cleaned_data["start"], end=self.cleaned_data["end"])


def period_of(request) -> tuple[PeriodForm, Period]:
    """The period the request asks for (start, end), or the last 30 days when it asks for none or a bad one."""
    default = Period.last_days()
    if "start" in request.GET or "end" in request.GET:
        form = PeriodForm(request.GET)
        return form, form.period() if form.is_valid() else default
    return PeriodForm(initial={"start": default.start, "end": default.end}), default
