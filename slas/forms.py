"""SLA and breach forms: one form per kind, so a manager sees only the fields that apply."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Layout, Row, Submit
from django import forms
from django.contrib.auth import forms as auth_forms
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leads.models import Source
from notifications.models import Kind
from slas.models import TERM_FIELDS, Sla
from slas.services import notifications as email_notifications

KIND_FIELDS = {
    Sla.Kind.RESPONSE: ["target_value", "target_unit", "warn_at_percent"],
    Sla.Kind.CADENCE: ["min_touches", "window_days"],
    Sla.Kind.VOLUME: ["from_team", "leads_per_rep", "period", "count_rejected"],
    Sla.Kind.ASSIGNMENT: ["target_value", "target_unit", "warn_at_percent"],
}
# What happens at a breach (SPEC §12): optional, so outside KIND_FIELDS' required terms.
ESCALATION = {
    Sla.Kind.RESPONSE: ["escalate_to_managers", "reassign_after", "reassign_after_unit"],
    Sla.Kind.CADENCE: ["escalate_to_managers"],
}
HELP = {
    Sla.Kind.RESPONSE: _(
        "The first follow-up (or a rejection with a reason) must come within this time of the lead being assigned."
    ),
    Sla.Kind.CADENCE: _("Reps follow each lead up at least this many times in the first days after they get it."),
    Sla.Kind.VOLUME: _("Marketing delivers at least this many leads per active sales rep in each period."),
    Sla.Kind.ASSIGNMENT: _(
        "A lead created without an owner reaches a rep within this time. It measures routing and the managers,"
        " never a rep: the rep's own clock starts only when the lead reaches them."
    ),
}


# Kinds whose terms the form can preview against the last weeks (SPEC §15): those judged by clocks.
PREVIEWED = {Sla.Kind.RESPONSE, Sla.Kind.CADENCE, Sla.Kind.ASSIGNMENT}


class SlaForm(forms.ModelForm):
    sources = forms.MultipleChoiceField(
        label=_("Only leads from these sources"),
        choices=Source.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked for every source."),
    )

    class Meta:
        model = Sla
        fields = ["name", "team", *TERM_FIELDS]

    def __init__(self, *args, kind: str, teams, from_teams, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        escalation = ESCALATION.get(kind, [])
        for name in list(self.fields):
            if name not in ("name", "team", "sources", *KIND_FIELDS[kind], *escalation):
                del self.fields[name]
        self.fields["team"].queryset = teams
        self.fields["team"].label = _("Sales team whose leads it governs")
        if teams.count() == 1:
            self.fields["team"].initial = teams.first()
        if "from_team" in self.fields:
            self.fields["from_team"].queryset = from_teams
            self.fields["from_team"].required = True
            if from_teams.count() == 1:
                self.fields["from_team"].initial = from_teams.first()
        for name in KIND_FIELDS[kind]:
            if name != "count_rejected":
                self.fields[name].required = name != "warn_at_percent"
        if not self.instance.pk:
            defaults = {
                "target_value": 1,
                "target_unit": Sla.Unit.BUSINESS_DAYS,
                "min_touches": 5,
                "window_days": 30,
                "leads_per_rep": 50,
                "period": "month",
                "warn_at_percent": 75,
            }
            if kind == Sla.Kind.ASSIGNMENT:  # routing is counted in hours, not days
                defaults.update(target_value=2, target_unit=Sla.Unit.BUSINESS_HOURS)
            for name, value in defaults.items():
                if name in self.fields:
                    self.fields[name].initial = value
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("name", css_class="col-md-7"), Column("team", css_class="col-md-5")),
            Row(*[Column(name) for name in KIND_FIELDS[kind] if name != "count_rejected"]),
            *(["count_rejected"] if "count_rejected" in self.fields else []),
            "sources",
            *(["escalate_to_managers"] if escalation else []),
            *([Row(Column("reassign_after"), Column("reassign_after_unit"))] if "reassign_after" in escalation else []),
            Div(
                Submit("save", _("Save SLA")),
                HTML('{% include "slas/_preview_button.html" %}') if kind in PREVIEWED else HTML(""),
                css_class="d-flex flex-wrap gap-2",
            ),
        )

    def clean_warn_at_percent(self) -> int:
        """The field is optional: left empty, the SLA warns at the model's default share."""
        value = self.cleaned_data.get("warn_at_percent")
        return Sla._meta.get_field("warn_at_percent").default if value is None else value


class AcknowledgeForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class WaiveForm(forms.Form):
    reason = forms.CharField(label=_("Why is it waived?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class NotificationPreferencesForm(forms.Form):
    digest_enabled = forms.BooleanField(required=False, label=_("Send me the weekly breach digest on Monday morning"))
    digest_when_empty = forms.BooleanField(required=False, label=_("…even when there is nothing to report"))
    email_notifications = forms.MultipleChoiceField(
        label=_("E-mail me too when…"),
        choices=Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Everything is in the app's notifications anyway; at most one e-mail every five minutes."),
    )

    def __init__(self, *args, kinds: list[tuple[str, str]] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if kinds is not None:
            self.fields["email_notifications"].choices = kinds
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "digest_enabled", "digest_when_empty", "email_notifications", Submit("save", _("Save"))
        )


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's password reset form, whose e-mail leaves through the outbox: a delivery row
    that the e-mail job sends within a minute, never the request itself."""

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ) -> None:
        html = render_to_string(html_email_template_name, context) if html_email_template_name else ""
        email_notifications.password_reset_schedule(
            user=context["user"],
            subject=render_to_string(subject_template_name, context),
            body=render_to_string(email_template_name, context),
            html=html,
            now=timezone.now(),
        )
