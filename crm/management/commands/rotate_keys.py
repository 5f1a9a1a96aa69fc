from django.core.management.base import BaseCommand

from crm.key_rotation import keys_rotate


class Command(BaseCommand):
    help = (
        "Re-wrap every data key and re-encrypt every value kept under a master key with "
        "the first key of FIELD_ENCRYPTION_KEYS. Run after putting a new key first; remove "
        "the old key from the list only afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size=500, **options):
        report = keys_rotate(progress=lambda msg: self.stdout.write(msg), batch_size=batch_size)
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-wrapped {report.data_keys} data keys; re-encrypted {report.values} values."
            )
        )
