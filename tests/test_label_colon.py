"""A label's colon follows the language: "Owner: 孙军" in English, "负责人：孙军" in Chinese
(never an ASCII colon inside Chinese text)."""

from __future__ import annotations

import re
from pathlib import Path

from django.template import Context, Template
from django.utils import translation

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _render(language: str) -> str:
    with translation.override(language):
        template = Template('{% load i18n crm_tags %}{% translate "Owner" %}{% colon %}孙军')
        return template.render(Context())


def test_the_colon_after_a_label_is_the_languages():
    assert _render("en") == "Owner: 孙军"
    chinese = _render("zh-hans")
    assert chinese.endswith("：孙军")
    assert ":" not in chinese


def test_no_template_puts_an_ascii_colon_after_a_label():
    """After a translated label or a value, outside the sentences translators write whole
    (``blocktranslate``), the colon is ``{% colon %}``."""
    sentences = re.compile(r"\{% blocktranslate.*?\{% endblocktranslate %\}", re.S)
    label_colon = re.compile(r'(\{% translate "[^"]+" %\}|\}\}|\{% endif %\}):[ <]')
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {found.group(0)}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for found in label_colon.finditer(sentences.sub("", path.read_text(encoding="utf-8")))
    ]
    assert offenders == []
