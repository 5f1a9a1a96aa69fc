from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.core.management.utils import get_random_secret_key

from crm.encryption import generate_key


class Command(BaseCommand):
    help = "Write a .env with fresh random keys for local use (never overwrites one)."

    def add_arguments(self, parser):
        parser.add_argument("--path", default=str(Path(settings.BASE_DIR) / ".env"))

    def handle(self, *args, path, **options):
        target = Path(path)
        if target.exists():
            self.stdout.write(f"{target} exists; left as it is.")
            return
        target.write_text(
            "# Written by `manage.py generate_env` for this machine only. Keep it secret.\n"
            f"DJANGO_SECRET_KEY={get_random_secret_key()}\n"
            f"FIELD_ENCRYPTION_KEYS={generate_key()}\n"
            f"BLIND_INDEX_KEY={generate_key()}\n"
            f"AUDIT_CHAIN_KEY={generate_key()}\n"
            f"PRIVACY_BACKUP_KEY={generate_key()}\n"
        )
        target.chmod(0o600)
        self.stdout.write(self.style.SUCCESS(f"Wrote {target} with new keys."))
