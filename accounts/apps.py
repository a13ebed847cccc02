from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts and schools"

    def ready(self) -> None:
        # Django's documented place to connect receivers: the module reads models, which
        # cannot be imported before the app registry is ready (apps.py loads first).
        from accounts import signals  # noqa: F401
