"""``manage.py privacy_report --from YYYY-MM-DD --to YYYY-MM-DD [--csv]``: the evidence report."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from audit import evidence
from crm.exports import writers


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(_("Give dates as YYYY-MM-DD.")) from error


class Command(BaseCommand):
    help = (
        "Summarise, for a period of days, consents given and withdrawn, reveals, exports, "
        "alerts, purges, subject requests and their timeliness, incidents (counts only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="last day (included)")
        parser.add_argument("--csv", action="store_true", help="write CSV instead of text")

    def handle(self, *args, start, end, csv=False, **options):
        start, end = _day(start), _day(end)
        if start > end:
            raise CommandError(_("The end cannot be before the start."))
        rows = evidence.privacy_report(start=start, end=end)
        if csv:
            header = ["section", "item", "label", "count"]
            body = b"".join(writers.csv_chunks(header, evidence.as_table(rows)))
            self.stdout.write(body.decode("utf-8-sig"), ending="")
            return
        self.stdout.write(
            _("Privacy evidence from %(start)s to %(end)s")
            % {"start": start.isoformat(), "end": end.isoformat()}
        )
        section = None
        for row in rows:
            if row.section != section:
                section = row.section
                self.stdout.write(f"\n{section}")
            self.stdout.write(f"  {row.label}: {row.count}")
