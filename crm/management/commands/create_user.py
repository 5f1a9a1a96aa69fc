import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from crm import roles
from crm.models import Team
from crm.services import user_create


class Command(BaseCommand):
    help = "Create a user with a role: create_user NAME --role ROLE [--team TEAM]."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=roles.ROLES)
        parser.add_argument("--team", help="Team name (created if it does not exist yet).")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from standard input instead of prompting.",
        )

    def handle(self, *args, username, role, team, email, password_stdin, **options):
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords do not match.")
        team_obj = None
        if team:
            team_obj = Team.objects.filter(name=team).first()
            if team_obj is None:
                from crm.services import team_create

                team_obj = team_create(name=team)
        try:
            user = user_create(
                username=username, role=role, password=password, team=team_obj, email=email
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Created {user.username} ({roles.label(role)})")
            + (f" in team {team_obj}" if team_obj else "")
        )
