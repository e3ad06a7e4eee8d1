"""Authentication backend: Django's, with the signed-in user's team read along."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from teams.models import User


class ModelBackendWithTeam(ModelBackend):
    """Django's `ModelBackend`, whose signed-in user comes with their team in the same
    statement. Every page reads the team (the preferences middleware takes its time zone;
    permissions and menus its kind), which was a second statement on every request."""

    def get_user(self, user_id):
        try:
            user = User._default_manager.select_related("team").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
