"""The form a visitor fills in at `/f/<key>/` (SPEC §13): the fields its lead form asks, the
consent box, the honeypot, and the page's attribution in hidden fields."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from intake.models import LeadForm
from leads.models import ATTRIBUTION_KEYS, Lead
from leads.phones import phone_e164

HONEYPOT = "website"
ATTRIBUTION_MAX = 500


class PublicLeadForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=Lead._meta.get_field("name").max_length)
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    phone = forms.CharField(label=_("Phone or WhatsApp"), max_length=40)
    company = forms.CharField(label=_("Company"), max_length=200)
    notes = forms.CharField(label=_("Message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    consent = forms.BooleanField(label="", required=False)
    # Left empty by people (it is hidden from them); bots fill every field in.
    website = forms.CharField(label=_("Leave this empty"), required=False, max_length=500)

    def __init__(self, *args, lead_form: LeadForm, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lead_form = lead_form
        for name in ("email", "phone", "company", "notes"):
            if name not in lead_form.fields:
                del self.fields[name]
            else:
                self.fields[name].required = name in lead_form.required
        if lead_form.consent_text:
            self.fields["consent"].required = True
            self.fields["consent"].label = lead_form.consent_text
            self.fields["consent"].error_messages["required"] = _("Tick the box to agree before you send.")
        else:
            del self.fields["consent"]
        self.fields[HONEYPOT].widget.attrs.update(tabindex="-1", autocomplete="off")
        for key in ATTRIBUTION_KEYS:
            self.fields[key] = forms.CharField(required=False, widget=forms.HiddenInput, strip=True)

    def clean_phone(self) -> str:
        try:
            return phone_e164(self.cleaned_data.get("phone", ""), region=self.lead_form.team.holiday_country)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None

    def clean(self) -> dict:
        data = super().clean()
        for key in ATTRIBUTION_KEYS:  # what a page put there, kept short rather than refused
            data[key] = (data.get(key) or "")[:ATTRIBUTION_MAX]
        return data

    def field_errors(self) -> dict[str, list[str]]:
        return {name: [str(message) for message in messages] for name, messages in self.errors.items()}
