"""The Simplified Chinese catalogue is complete and compiled."""

import gettext
import re
from pathlib import Path

from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def _entries(*, with_context: bool = False):
    """(msgid, msgstr, flags) of each entry of the .po, parsed without extra tools; with
    its ``msgctxt`` ("" for none) first when ``with_context``."""
    text = PO.read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        lines = block.strip().splitlines()
        flags = " ".join(line for line in lines if line.startswith("#,"))
        fields, current = {}, None
        for line in lines:
            match = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if match:
                current = match.group(1)
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if fields.get("msgid"):
            msgstr = fields.get("msgstr", fields.get("msgstr[0]", ""))
            if with_context:
                yield fields.get("msgctxt", ""), fields["msgid"], msgstr, flags
            else:
                yield fields["msgid"], msgstr, flags


def test_every_message_is_translated_and_none_is_fuzzy():
    entries = list(_entries())
    assert len(entries) > 50
    untranslated = [msgid for msgid, msgstr, _ in entries if not msgstr]
    fuzzy = [msgid for msgid, _, flags in entries if "fuzzy" in flags]
    assert untranslated == [] and fuzzy == []


def test_compiled_catalogue_matches_the_source():
    with MO.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    stale = [
        msgid
        for context, msgid, msgstr, _ in _entries(with_context=True)
        if "%(" not in msgid
        and "\\" not in msgid
        and (catalogue.pgettext(context, msgid) if context else catalogue.gettext(msgid)) != msgstr
    ]
    assert stale == [], "run `make messages` to recompile the catalogue"


def test_templates_and_code_use_only_catalogued_strings():
    """A cheap extraction check: every literal {% translate "…" %} is in the catalogue."""
    known = {msgid for msgid, _, _ in _entries()}
    missing = set()
    for template in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        for msgid in re.findall(r'{% translate "([^"]+)"', template.read_text(encoding="utf-8")):
            if msgid not in known:
                missing.add(f"{template.name}: {msgid}")
    assert missing == set(), "run `make messages` and translate the new strings"


def test_python_strings_are_catalogued():
    """Every one-literal _("…") / gettext_lazy("…") in the product apps is in the catalogue."""
    known = {msgid for msgid, _, _ in _entries()}
    pattern = re.compile(r'\b(?:_|gettext|gettext_lazy|gettext_noop)\("((?:[^"\\]|\\.)+)"\)')
    missing = set()
    for app in ("crm", "audit", "customers", "credit", "complaints", "analytics"):
        for source in Path(settings.BASE_DIR, app).rglob("*.py"):
            if "tests" in source.parts or "migrations" in source.parts:
                continue
            for msgid in pattern.findall(source.read_text(encoding="utf-8")):
                if msgid.encode().decode("unicode_escape") not in known and msgid not in known:
                    missing.add(f"{source.name}: {msgid}")
    assert missing == set(), "run `make messages` and translate the new strings"
