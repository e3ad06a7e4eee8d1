"""Forms for KPIs, targets and manual values."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from kpis.models import Kpi, Measurement, Target
from salesmarketing.limits import DAY_VALIDATORS
from teams.models import Team


class KpiForm(forms.ModelForm):
    class Meta:
        model = Kpi
        fields = ["name", "metric", "unit", "aggregation", "team"]

    def __init__(self, *args, teams, **kwargs) -> None:
        kwargs.setdefault("auto_id", "kpi_%s")  # several forms share one page
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["team"].empty_label = _("The whole company")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("name", css_class="col-md-6"), Column("metric", css_class="col-md-6")),
            Row(Column("team"), Column("unit"), Column("aggregation")),
            Submit("save", _("Save KPI")),
        )


class TargetForm(forms.ModelForm):
    class Meta:
        model = Target
        fields = ["kpi", "team", "user", "period", "period_start", "target"]
        widgets = {"period_start": forms.DateInput(attrs={"type": "date"})}
        help_texts = {"period_start": _("The first day of the month, quarter or year.")}

    def __init__(self, *args, kpis, teams, people, **kwargs) -> None:
        kwargs.setdefault("auto_id", "target_%s")  # several forms share one page
        super().__init__(*args, **kwargs)
        self.fields["kpi"].queryset = kpis
        self.fields["team"].queryset = teams
        self.fields["team"].empty_label = _("—")
        self.fields["user"].queryset = people
        self.fields["user"].empty_label = _("—")
        self.fields["user"].help_text = _("Leave team and person empty for a company target.")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("kpi", css_class="col-md-6"), Column("target", css_class="col-md-6")),
            Row(Column("team"), Column("user")),
            Row(Column("period"), Column("period_start")),
            Submit("save", _("Save target")),
        )


class MeasurementForm(forms.ModelForm):
    class Meta:
        model = Measurement
        fields = ["kpi", "team", "date", "value"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, kpis, teams, **kwargs) -> None:
        kwargs.setdefault("auto_id", "value_%s")  # several forms share one page
        super().__init__(*args, **kwargs)
        self.fields["kpi"].queryset = kpis
        self.fields["team"].queryset = teams
        self.fields["team"].empty_label = _("The whole company")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(
                Column("kpi", css_class="col-md-4"),
                Column("team", css_class="col-md-3"),
                Column("date", css_class="col-md-2"),
                Column("value", css_class="col-md-3"),
            ),
            Submit("save", _("Add value")),
        )


class PeriodForm(forms.Form):
    """Choose a team and a period for the insights and scorecards pages."""

    team = forms.ModelChoiceField(Team.objects.none(), required=False, label=_("Team"), empty_label=_("All teams"))
    start = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}), validators=DAY_VALIDATORS
    )
    end = forms.DateField(
        required=False, label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}), validators=DAY_VALIDATORS
    )

    def __init__(self, *args, teams, **kwargs) -> None:
        kwargs.setdefault("auto_id", "period_%s")  # several forms share one page
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        for field in self.fields.values():
            field.widget.attrs.setdefault(
                "class", "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["end"] < cleaned["start"]:
            self.add_error("end", _("The end comes after the start."))
        return cleaned


class MeasurementImportForm(forms.Form):
    kpi = forms.ModelChoiceField(Kpi.objects.none(), label=_("KPI"))
    team = forms.ModelChoiceField(
        Team.objects.none(), required=False, label=_("Team"), empty_label=_("The whole company")
    )
    file = forms.FileField(
        label=_("CSV file"), help_text=_("Columns “date” (YYYY-MM-DD) and “value”, or “tanggal” and “nilai”.")
    )

    def __init__(self, *args, kpis, teams, **kwargs) -> None:
        kwargs.setdefault("auto_id", "import_%s")  # several forms share one page
        super().__init__(*args, **kwargs)
        self.fields["kpi"].queryset = kpis
        self.fields["team"].queryset = teams
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(
                Column("kpi", css_class="col-md-4"),
                Column("team", css_class="col-md-3"),
                Column("file", css_class="col-md-5"),
            ),
            Submit("save", _("Import values")),
        )
