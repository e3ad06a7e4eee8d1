from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailcaptureConfig(AppConfig):
    name = "mailcapture"
    verbose_name = _("E-mail capture")
