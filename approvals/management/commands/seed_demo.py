from django.conf import settings
from django.core.management.base import BaseCommand

from approvals.seeding.demo import ensure_demo_reviewer, load_demo_data


class Command(BaseCommand):
    help = (
        "Create the demo reviewer account if missing and load demo data into empty tables. "
        "--reset replaces the demo data (its three projects and the files under demo/) and leaves all else alone."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo projects, their rows and files, then load the demo afresh (other data stays).",
        )

    def handle(self, *args, **options):
        username, password = ensure_demo_reviewer(settings.VAR_DIR / "demo-login.txt")
        pending = load_demo_data(reset=options["reset"])
        if pending is None:
            self.stdout.write("Tables already hold data: demo data not loaded (`seed_demo --reset` loads it anyway).")
        else:
            verb = "Reset" if options["reset"] else "Loaded"
            self.stdout.write(f"{verb} demo data: {pending} artifacts wait for review.")
        if password:
            self.stdout.write(self.style.SUCCESS(f"Log in as {username} / {password}"))
        else:
            self.stdout.write(
                f"Log in as {username} (password not known here: "
                f"`.venv/bin/python manage.py changepassword {username}`)."
            )
