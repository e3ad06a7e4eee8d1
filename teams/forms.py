"""Forms for team calendars, preferences and the API token page."""

from __future__ import annotations

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row, Submit
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from salesmarketing.limits import day_in_range
from teams.models import ClosedDate, Team, User, Weekday


class ClosedDateForm(forms.ModelForm):
    class Meta:
        model = ClosedDate
        fields = ["date", "name"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}
        help_texts = {"name": _("E.g. company outing, cuti bersama.")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(Row(Column("date", css_class="col-sm-5"), Column("name", css_class="col-sm-7")))


class TeamForm(forms.ModelForm):
    work_days = forms.TypedMultipleChoiceField(
        label=_("Working days"),
        choices=Weekday.choices,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Team
        fields = [
            "name",
            "kind",
            "timezone",
            "work_days",
            "work_start",
            "work_end",
            "break_start",
            "break_end",
            "holiday_country",
            "currency",
            "auto_route",
        ]
        help_texts = {
            "auto_route": _("A sales team's new leads without an owner go to a rep at once, by its routing rules.")
        }
        widgets = {
            name: forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
            for name in ("work_start", "work_end", "break_start", "break_end")
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("name", css_class="col-md-8"), Column("kind", css_class="col-md-4")),
            Row(Column("timezone"), Column("holiday_country"), Column("currency")),
            Field("work_days", css_class="d-flex gap-3 flex-wrap"),
            Row(Column("work_start"), Column("work_end"), Column("break_start"), Column("break_end")),
            "auto_route",
            Submit("save", _("Save")),
        )


class TokenActionForm(forms.Form):
    """One button that POSTs a token action to `form_action`.

    Rotate and revoke are confirmed by the page that carries this form (reached by a
    link from the token page), so the confirmation needs no script.
    """

    ACTIONS = {
        "create": (_("Create token"), "btn-primary"),
        "rotate": (_("Rotate token"), "btn-warning"),
        "revoke": (_("Revoke token"), "btn-danger"),
    }

    def __init__(self, *args, action: str, form_action: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        label, css_class = self.ACTIONS[action]
        self.helper = FormHelper()
        self.helper.form_action = form_action
        self.helper.layout = Layout(StrictButton(label, type="submit", name=action, css_class=css_class))


class TimeOffForm(forms.Form):
    """Time off for one person: whole days (in the team's zone) or from and until a time."""

    WHOLE_DAYS, TIMES = "days", "times"

    person = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Person"))
    span = forms.ChoiceField(
        label=_("How long"),
        choices=[(WHOLE_DAYS, _("Whole days")), (TIMES, _("From and until a time"))],
        initial=WHOLE_DAYS,
        widget=forms.RadioSelect,
    )
    first_day = forms.DateField(
        label=_("First day off"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    last_day = forms.DateField(label=_("Last day off"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.DateTimeField(
        label=_("From"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    end = forms.DateTimeField(
        label=_("Until"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=200, required=False, help_text=_("E.g. annual leave, sick, training.")
    )

    def __init__(self, *args, people: QuerySet[User], choose_person: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        if not choose_person:  # one's own time off: nobody else to pick
            self.fields["person"].widget = forms.HiddenInput()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "person",
            Field("span", css_class="d-flex gap-3"),
            Row(Column("first_day"), Column("last_day"), data_shown_with=f"span={self.WHOLE_DAYS}"),
            Row(Column("start"), Column("end"), data_shown_with=f"span={self.TIMES}"),
            "reason",
        )

    def clean(self) -> dict:
        data = super().clean()
        needed = ("first_day", "last_day") if data.get("span") == self.WHOLE_DAYS else ("start", "end")
        for name in needed:
            if data.get(name) is None and name not in self.errors:
                self.add_error(name, _("This field is required."))
        for name in ("first_day", "last_day"):
            if name in needed and data.get(name) is not None:
                try:
                    day_in_range(data[name], name)
                except forms.ValidationError as exc:
                    self.add_error(None, exc)
        first, last = data.get("first_day"), data.get("last_day")
        if "first_day" in needed and first and last and last < first:
            self.add_error("last_day", _("The last day off is on or after the first."))
        return data
