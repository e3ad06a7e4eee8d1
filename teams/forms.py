"""Forms for team calendars, preferences and the API token page."""

from __future__ import annotations

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from teams.models import ClosedDate, Team, Weekday


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
        ]
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
