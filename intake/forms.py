"""The forms of intake's pages: a lead form's, an inbound hook's and a WhatsApp number's settings."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout
from django import forms
from django.utils.translation import gettext_lazy as _

from intake.models import HOOK_TARGETS, FormField, InboundHook, LeadForm, WhatsAppNumber
from leads.models import ATTRIBUTION_KEYS, Campaign, Source
from leads.selectors import lead_teams
from teams.models import User


class _EndpointForm(forms.ModelForm):
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices)

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = lead_teams(user=user)
        self.fields["team"].empty_label = None
        self.fields["campaign"].queryset = Campaign.objects.order_by("-start_date", "name")
        self.helper = FormHelper()
        self.helper.form_tag = False

    def endpoint_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class LeadFormForm(_EndpointForm):
    redirect_url = forms.URLField(
        label=_("Redirect to"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("Where visitors go after sending (your own thank-you page); empty: ours."),
    )
    fields_asked = forms.MultipleChoiceField(
        label=_("Fields besides the name"),
        choices=FormField.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    required_fields = forms.MultipleChoiceField(
        label=_("Required"),
        choices=FormField.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("The name is always required."),
    )
    origins = forms.CharField(
        label=_("Allowed origins"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Only for posts from a script on your site (fetch): one per line, such as https://www.example.com. "
            "The HTML snippet needs none."
        ),
    )

    class Meta:
        model = LeadForm
        fields = ["name", "team", "campaign", "source", "language", "consent_text", "redirect_url", "active"]
        widgets = {"consent_text": forms.Textarea(attrs={"rows": 2})}
        labels = {"language": _("Language of its page")}
        help_texts = {
            "name": _("Shown as the page's title, e.g. “Ask for a demo”."),
            "consent_text": _("With words here, visitors must tick them to send; the words and the time are kept."),
            "active": _("Switched off, its page and posts answer 404."),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        form = self.instance
        self.initial.setdefault("fields_asked", form.fields if form.pk else ["email", "phone", "notes"])
        self.initial.setdefault("required_fields", form.required if form.pk else ["phone"])
        self.initial.setdefault("origins", "\n".join(form.allowed_origins))
        self.initial.setdefault("source", form.source)
        self.helper.layout = Layout(
            "name",
            "team",
            "campaign",
            "source",
            "language",
            "fields_asked",
            "required_fields",
            "consent_text",
            Field("redirect_url", placeholder="https://www.example.com/thanks"),
            "origins",
            "active",
        )

    def endpoint_fields(self) -> dict:
        data = super().endpoint_fields()
        data["fields"] = self.cleaned_data["fields_asked"]
        data["required"] = self.cleaned_data["required_fields"]
        data["allowed_origins"] = [line.strip() for line in self.cleaned_data["origins"].splitlines() if line.strip()]
        return data


class InboundHookForm(_EndpointForm):
    mapping = forms.CharField(
        label=_("Field map"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}),
        help_text=_(
            "JSON hooks only: one “lead field = path in the body” per line, such as “email = contact.email”. "
            "Fields left out are read from the body's key of the same name. Lead fields: %(names)s."
        )
        % {"names": ", ".join((*HOOK_TARGETS, *ATTRIBUTION_KEYS))},
    )

    class Meta:
        model = InboundHook
        fields = ["name", "team", "campaign", "source", "kind", "active"]
        widgets = {"kind": forms.RadioSelect}
        help_texts = {
            "name": _("For you, e.g. “Zapier: webinar sign-ups”."),
            "active": _("Switched off, its address answers 404."),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        hook = self.instance
        self.initial.setdefault("mapping", "\n".join(f"{key} = {path}" for key, path in hook.field_map.items()))
        self.initial.setdefault("source", hook.source)
        self.helper.layout = Layout("name", "team", "campaign", "source", "kind", "mapping", "active")

    def clean_mapping(self) -> dict[str, str]:
        mapping = {}
        for number, line in enumerate(self.cleaned_data["mapping"].splitlines(), start=1):
            if not line.strip():
                continue
            key, equals, path = line.partition("=")
            if not equals or not key.strip() or not path.strip():
                raise forms.ValidationError(_("Line %(n)d: write “lead field = path”.") % {"n": number})
            mapping[key.strip()] = path.strip()
        return mapping

    def endpoint_fields(self) -> dict:
        return {**super().endpoint_fields(), "field_map": self.cleaned_data["mapping"]}


class WhatsAppNumberForm(_EndpointForm):
    source = None

    class Meta:
        model = WhatsAppNumber
        fields = ["phone_number_id", "name", "team", "campaign", "active"]
        help_texts = {
            "phone_number_id": _("From Meta's WhatsApp Manager: API setup, “Phone number ID” (not the number itself)."),
            "name": _("For you, e.g. “Sales WhatsApp +62 21 5000 123”."),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper.layout = Layout("phone_number_id", "name", "team", "campaign", "active")
