"""Compute the monthly report run of a month (default: the previous one) now."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from analytics import report_runs


class Command(BaseCommand):
    help = "Compute and store the standard monthly sales reports (idempotent per month)."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM (default: the previous month)")

    def handle(self, *args, month=None, **options):
        if month:
            try:
                period = datetime.datetime.strptime(month, "%Y-%m").date()
            except ValueError as exc:
                raise CommandError("Give the month as YYYY-MM.") from exc
        else:
            period = report_runs.previous_month()
        run = report_runs.report_run_start(actor=None, period=period)
        status = report_runs.report_run_execute(run_id=run.pk)
        run.refresh_from_db(fields=["status", "error"])
        self.stdout.write(f"{period:%Y-%m}: {run.status}")
        if run.status == "failed":
            raise CommandError(run.error)
        return None if status else None
