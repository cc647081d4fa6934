"""django-axes under a name ops understand: its lockout records appear in the admin as "Login security"."""

from axes.apps import AppConfig as AxesConfig


class LoginSecurityConfig(AxesConfig):
    verbose_name = "Login security"
