"""Forms of the routing pages: a rule (members with weights), and "where would this lead go?"."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Fieldset, Layout, Row
from django import forms
from django.utils.translation import gettext_lazy as _

from leads.models import Campaign, Source
from routing.models import Method, Rule
from routing.services import RULE_FIELDS
from salesmarketing.limits import MONEY
from teams.models import Team, User


class RuleForm(forms.ModelForm):
    """A rule; each rep of the team has a weight field (0 leaves them out of the rule)."""

    sources = forms.MultipleChoiceField(
        label=_("Sources"),
        choices=Source.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any source."),
    )
    campaigns = forms.ModelMultipleChoiceField(
        label=_("Campaigns"),
        queryset=Campaign.objects.none(),
        required=False,
        help_text=_("None chosen: any campaign, or none."),
    )
    email_domains = forms.CharField(
        label=_("E-mail domains"),
        required=False,
        help_text=_("Separated by commas, e.g. go.id, bumn.co.id (subdomains count). Empty: any e-mail."),
    )
    method = forms.ChoiceField(label=_("Choose the rep"), choices=Method.choices, widget=forms.RadioSelect)

    class Meta:
        model = Rule
        fields = [name for name in RULE_FIELDS if name != "members"]  # members: a weight field a rep
        help_texts = {
            "min_value": _("Only leads with a deal value at least this; empty: any value."),
            "cap_per_day": _("A rep who got this many of the team's leads today is passed over; empty: no cap."),
            "cap_open": _("A rep with this many open leads is passed over; empty: no cap."),
        }

    def __init__(self, *args, team: Team, reps: list[User], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reps = reps
        self.fields["campaigns"].queryset = Campaign.objects.filter(team__kind=Team.Kind.MARKETING).order_by("name")
        if self.instance.pk:
            self.initial["email_domains"] = ", ".join(self.instance.email_domains)
            self.initial["campaigns"] = list(self.instance.campaigns.values_list("pk", flat=True))
        weights = {member.user_id: member.weight for member in self.instance.members.all()} if self.instance.pk else {}
        for rep in reps:
            self.fields[f"weight_{rep.pk}"] = forms.IntegerField(
                label=str(rep),
                min_value=0,
                max_value=1000,
                required=False,  # empty is 0: not in the rule
                initial=weights.get(rep.pk, 0 if weights else 1),
            )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("name", css_class="col-md-8"), Column("active", css_class="col-md-4 pt-md-4")),
            Fieldset(
                _("Which leads (all must hold)"),
                Field("sources", css_class="d-flex flex-wrap gap-3"),
                Row(Column("campaigns"), Column("min_value"), Column("email_domains")),
            ),
            Fieldset(
                _("Who gets them"),
                Field("method", css_class="d-flex flex-wrap gap-3"),
                Row(*[Column(f"weight_{rep.pk}", css_class="col-6 col-md-3") for rep in reps]),
                Row(Column("cap_per_day"), Column("cap_open")),
            ),
        )

    def clean_email_domains(self) -> list[str]:
        return [part.strip() for part in self.cleaned_data["email_domains"].split(",") if part.strip()]

    def rule_fields(self) -> dict:
        """The service's keyword arguments."""
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["campaigns"] = list(data["campaigns"])
        data["members"] = [
            {"user": rep, "weight": self.cleaned_data[f"weight_{rep.pk}"]}
            for rep in self.reps
            if self.cleaned_data.get(f"weight_{rep.pk}")
        ]
        return data


class RouteTestForm(forms.Form):
    """Where would a lead with these details go now?"""

    source = forms.ChoiceField(label=_("Source"), choices=Source.choices, initial=Source.ADS)
    value = forms.DecimalField(label=_("Deal value"), required=False, min_value=0, **MONEY)
    email = forms.EmailField(label=_("E-mail"), required=False)
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=Campaign.objects.none(), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.filter(team__kind=Team.Kind.MARKETING).order_by("name")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(Row(Column("source"), Column("value"), Column("email"), Column("campaign")))
