"""``manage.py purge_expired [--dry-run]``: the retention run, by hand (the daily task's twin)."""

from django.core.management.base import BaseCommand

from audit.models import DestructionRecord
from audit.retention import purge_expired


class Command(BaseCommand):
    help = "Purge the customers whose retention has expired (skips legal holds, open matters)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Only say what would be purged (counts)."
        )

    def handle(self, *args, dry_run=False, **options):
        plan, record = purge_expired(
            dry_run=dry_run,
            trigger=DestructionRecord.Trigger.COMMAND,
            job="manage.py purge_expired",
        )
        skipped = ", ".join(f"{why}={count}" for why, count in sorted(plan.skipped.items()))
        records = ", ".join(f"{c}={n}" for c, n in sorted(plan.expired_records.items()))
        if dry_run:
            self.stdout.write(
                f"Would purge {len(plan.customers)} customers; skipped: {skipped or 'none'}; "
                f"expired records: {records or 'none'}."
            )
            return
        self.stdout.write(
            f"Purged {record.subjects} customers (destruction record {record.pk}, "
            f"hash {record.record_hash}); skipped: {skipped or 'none'}."
        )
