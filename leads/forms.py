"""Forms of the leads pages: shape and widgets only; the services validate and write."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leads.models import Campaign, Dispute, Lead, Rejection, Status, Touch
from salesmarketing.limits import MONEY
from teams.models import Team, User


class LeadForm(forms.ModelForm):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), label=_("Sales team"))
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label=_("Assign to"))

    class Meta:
        model = Lead
        fields = ["name", "email", "phone", "company", "source", "campaign", "team", "owner", "value", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, teams=None, owners=None, editing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["team"], self.fields["owner"]
        else:
            self.fields["team"].queryset = teams if teams is not None else Team.objects.none()
            self.fields["owner"].queryset = owners if owners is not None else User.objects.none()
            if teams is not None and teams.count() == 1:
                self.fields["team"].initial = teams.first()
        self.fields["campaign"].queryset = Campaign.objects.order_by("-start_date", "name")
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("name", css_class="col-md-6"), Column("company", css_class="col-md-6")),
            Row(Column("email", css_class="col-md-6"), Column("phone", css_class="col-md-6")),
            Row(
                Column("source", css_class="col-md-4"),
                Column("campaign", css_class="col-md-4"),
                Column("value", css_class="col-md-4"),
            ),
            *([] if editing else [Row(Column("team", css_class="col-md-6"), Column("owner", css_class="col-md-6"))]),
            "notes",
            Submit("save", _("Save lead")),
        )


class TouchForm(forms.ModelForm):
    """Log a follow-up: kind is required; time defaults to now."""

    class Meta:
        model = Touch
        fields = ["kind", "outcome", "occurred_at", "notes"]
        widgets = {
            "kind": forms.RadioSelect,
            "notes": forms.Textarea(attrs={"rows": 2, "placeholder": _("What happened? (optional)")}),
            "occurred_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["occurred_at"].required = False
        self.fields["occurred_at"].help_text = _("Leave empty for now.")
        self.fields["occurred_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


CALL_OUTCOMES = (Touch.Outcome.CONNECTED, Touch.Outcome.NO_ANSWER, Touch.Outcome.VOICEMAIL)


class CallOutcomeForm(forms.Form):
    """How a tapped call went, in one more tap."""

    outcome = forms.ChoiceField(choices=[(o.value, o.label) for o in CALL_OUTCOMES])


class RejectForm(forms.ModelForm):
    class Meta:
        model = Rejection
        fields = ["reason", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=[c for c in Status.choices if c[0] != Status.REJECTED], label=_("Status"))
    value = forms.DecimalField(required=False, min_value=0, **MONEY, label=_("Deal value"))


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Assign to"))

    def __init__(self, *args, owners=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners if owners is not None else User.objects.none()


class BulkAssignForm(AssignForm):
    leads = forms.ModelMultipleChoiceField(queryset=Lead.objects.none(), label=_("Leads"))
    round_robin = forms.BooleanField(required=False)

    def __init__(self, *args, leads=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["leads"].queryset = leads if leads is not None else Lead.objects.none()
        self.fields["owner"].required = False

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("round_robin") and not cleaned.get("owner"):
            self.add_error("owner", _("Choose a rep, or share the leads out in turn."))
        return cleaned


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("UTF-8, first row with column names."))
    team = forms.ModelChoiceField(queryset=Team.objects.none(), label=_("Sales team"))

    def __init__(self, *args, teams=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams if teams is not None else Team.objects.none()
        if teams is not None and teams.count() == 1:
            self.fields["team"].initial = teams.first()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "channel", "team", "start_date", "end_date", "spend", "currency", "utm_campaign"]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "end_date": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, teams=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams if teams is not None else Team.objects.filter(kind=Team.Kind.MARKETING)
        if not self.instance.pk:
            self.fields["start_date"].initial = timezone.localdate()
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("name", css_class="col-md-8"), Column("channel", css_class="col-md-4")),
            Row(
                Column("team", css_class="col-md-4"),
                Column("start_date", css_class="col-md-4"),
                Column("end_date", css_class="col-md-4"),
            ),
            Row(Column("spend", css_class="col-md-8"), Column("currency", css_class="col-md-4")),
            "utm_campaign",
            Submit("save", _("Save campaign")),
        )


class DisputeForm(forms.ModelForm):
    """Dispute a lead's latest rejection: why it is wrong."""

    class Meta:
        model = Dispute
        fields = ["note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["note"].help_text = _("The sales team’s manager reads it and rules.")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class RulingForm(forms.Form):
    """Rule on a dispute: the rejection stands (upheld) or not (overturned), and why."""

    ruling = forms.ChoiceField(
        choices=[
            (Dispute.State.UPHELD, _("Uphold: the rejection stands")),
            (Dispute.State.OVERTURNED, _("Overturn: the lead goes back to Sales")),
        ],
        widget=forms.RadioSelect,
        label=_("Ruling"),
    )
    ruling_note = forms.CharField(
        max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), label=_("Reason for the ruling")
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "ruling-%s")
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
