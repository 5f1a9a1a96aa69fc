import socket
import time
import unicodedata

from django.conf import settings
from django.core.management.base import BaseCommand

from crm import roles
from crm.seed import DEMO_USERS


def _width(text: str) -> int:
    """Columns a terminal gives the text: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _wait_for(address: str, timeout: float = 60.0) -> None:
    """Until something listens at ``host:port`` (at most ``timeout`` seconds)."""
    host, _sep, port = address.rpartition(":")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, int(port)), timeout=0.5):
                time.sleep(0.3)  # the server's banner comes out as it starts listening
                return
        except OSError:
            time.sleep(0.25)


class Command(BaseCommand):
    help = "Print the demo users' logins as a table (the last lines `make run` prints)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--wait-for",
            metavar="HOST:PORT",
            help="Print once a server answers there (`make run`: after the server's banner).",
        )

    def handle(self, *args, wait_for=None, **options):
        if wait_for:
            try:
                _wait_for(wait_for)
            except KeyboardInterrupt:  # Ctrl-C stopped `make run` before the server was up
                return
        header = ("login", "name", "role", "team")
        rows = [
            (username, f"{last}{first}", str(roles.LABELS.get(role, role)), team or "—")
            for username, role, team, first, last in DEMO_USERS
        ]
        widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]

        def line(cells):
            return (
                "  "
                + "  ".join(
                    cell + " " * (width - _width(cell))
                    for cell, width in zip(cells, widths, strict=True)
                ).rstrip()
            )

        self.stdout.write("")
        self.stdout.write(line(header))
        self.stdout.write(line(tuple("-" * width for width in widths)))
        for row in rows:
            self.stdout.write(line(row))
        self.stdout.write(f"\n  Password for every demo login: {settings.DEMO_PASSWORD}")
        self.stdout.write(f"  Open {settings.CRM_BASE_URL}  (Ctrl-C stops the server)\n")
