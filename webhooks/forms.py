"""The webhook form of the admin's pages."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout
from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks.models import Event, Webhook


class WebhookForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(event.value, f"{event.value} — {event.label}") for event in Event],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What the receiver hears of."),
    )
    format = forms.ChoiceField(label=_("Format"), choices=Webhook.Format.choices, widget=forms.RadioSelect)
    # The address is checked by the service (it must reach a public address): the field only
    # holds it, so every refusal reads the same on the page and in the API.
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        help_text=_("Where Selaras POSTs each event: a Slack incoming webhook, a Teams workflow, your own service."),
    )

    class Meta:
        model = Webhook
        fields = ["name", "url", "events", "format", "active"]
        help_texts = {
            "name": _("For you, e.g. “Sales channel in Slack”."),
            "active": _("Switched off, it hears of nothing until switched on again."),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.initial.setdefault("events", [Event.BREACH_RECORDED, Event.LEAD_REROUTED])
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Field("name"), Field("url", placeholder="https://hooks.slack.com/services/…"), "events", "format", "active"
        )

    def webhook_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
