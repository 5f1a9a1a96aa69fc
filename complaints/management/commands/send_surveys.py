"""``manage.py send_surveys``: the periodic satisfaction survey round, run by hand."""

from django.core.management.base import BaseCommand

from complaints import services


class Command(BaseCommand):
    help = (
        "Send each active satisfaction survey's current round to the customers with a live "
        "consent for the survey purpose (once a customer a round)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--survey", type=int, help="Only this survey (its id).")

    def handle(self, *args, **options):
        if options.get("survey"):
            counts = services.survey_round_send(survey_id=options["survey"])
        else:
            counts = services.surveys_send_due()
        self.stdout.write(
            f"{counts['invited']} invited, {counts['no_email']} without e-mail, "
            f"{counts['failed']} failed"
        )
