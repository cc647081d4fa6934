from django.conf import settings
from django.core.management.base import BaseCommand

from approvals.seeding.demo import ensure_demo_reviewer, load_demo_data


class Command(BaseCommand):
    help = "Create the demo reviewer account if missing and load demo data into empty tables."

    def handle(self, *args, **options):
        username, password = ensure_demo_reviewer(settings.VAR_DIR / "demo-login.txt")
        pending = load_demo_data()
        if pending is None:
            self.stdout.write("Tables already hold data: demo data not loaded.")
        else:
            self.stdout.write(f"Loaded demo data: {pending} artifacts wait for review.")
        if password:
            self.stdout.write(self.style.SUCCESS(f"Log in as {username} / {password}"))
        else:
            self.stdout.write(
                f"Log in as {username} (password not known here: `python manage.py changepassword {username}`)."
            )
