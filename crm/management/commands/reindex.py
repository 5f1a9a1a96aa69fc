from django.core.management.base import BaseCommand

from crm.blind_index import current_version
from crm.search_index import reindex


class Command(BaseCommand):
    help = (
        "Recompute every search digest (blind indexes, name tokens) under the current "
        "blind-index key, decrypting the values in batches. Resumable: rows already indexed "
        "under the current key are skipped unless --all. Afterwards no digest of an older "
        "key version is left, and the old key can be removed from BLIND_INDEX_KEYS."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--all",
            action="store_true",
            dest="everything",
            help="Recompute every row, also those already indexed under the current version.",
        )

    def handle(self, *args, batch_size, everything, **options):
        self.stdout.write(f"Re-indexing under blind-index key version {current_version()}.")
        report = reindex(
            batch_size=batch_size,
            everything=everything,
            progress=lambda message: self.stdout.write(message),
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Examined {report.examined} rows, re-indexed {report.written}; deleted "
                f"{report.old_versions_deleted} old-version and {report.orphans_deleted} "
                f"orphaned digests; {report.conflicts} shared unique values."
            )
        )
