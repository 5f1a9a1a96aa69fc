from django.conf import settings
from django.core.management.base import BaseCommand

from crm import roles
from crm.seed import DEMO_USERS


class Command(BaseCommand):
    help = "Print the demo users' logins as a table (the last lines `make run` prints)."

    def handle(self, *args, **options):
        rows = [
            (username, str(roles.LABELS.get(role, role)), team or "—")
            for username, role, team, _first, _last in DEMO_USERS
        ]
        widths = [max(len(row[i]) for row in [("login", "role", "team"), *rows]) for i in range(3)]

        def line(cells):
            return "  " + "  ".join(
                cell.ljust(width) for cell, width in zip(cells, widths, strict=True)
            )

        self.stdout.write("")
        self.stdout.write(line(("login", "role", "team")))
        self.stdout.write(line(tuple("-" * width for width in widths)))
        for row in rows:
            self.stdout.write(line(row))
        self.stdout.write(f"\n  Password for every demo login: {settings.DEMO_PASSWORD}")
        self.stdout.write(f"  Open {settings.CRM_BASE_URL}  (Ctrl-C stops the server)\n")
