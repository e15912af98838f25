"""Every message catalogue language holds the same keys, with the same placeholders, so
no screen falls back to a key or shows Chinese in the English UI by accident."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest

from yizhan.i18n import DEFAULT_LANG, LANGS, LOCALES_DIR, catalogue, t


def _domains() -> set[str]:
    return {p.name for lang in LANGS for p in (LOCALES_DIR / lang).glob("*.json")}


def _load(lang: str, domain: str) -> dict[str, str]:
    path = LOCALES_DIR / lang / domain
    assert path.is_file(), f"{path} missing: every language needs the same catalogue files"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_a_folder():
    assert {p.name for p in LOCALES_DIR.iterdir() if p.is_dir()} == set(LANGS)


@pytest.mark.parametrize("domain", sorted(_domains()))
def test_same_keys_and_placeholders_in_every_language(domain: str):
    reference = _load(DEFAULT_LANG, domain)
    for lang in LANGS:
        other = _load(lang, domain)
        missing = sorted(set(reference) - set(other))
        extra = sorted(set(other) - set(reference))
        assert not missing and not extra, f"{lang}/{domain}: missing {missing}, extra {extra}"
        for key, text in other.items():
            assert isinstance(text, str), f"{lang}/{domain}: {key} is not a string"
            # an empty text is allowed only where it is empty on purpose in every language
            assert bool(text.strip()) == bool(reference[key].strip()), f"{lang}/{domain}: {key} is empty in one language only"
            assert _fields(text) == _fields(reference[key]), f"{lang}/{domain}: {key} placeholders differ"


def test_keys_are_unique_across_domains():
    for lang in LANGS:
        catalogue.cache_clear()
        catalogue(lang)  # raises on a key defined in two files


def test_lookup_falls_back_to_the_key_for_an_unknown_message():
    assert t("no.such.key.anywhere") == "no.such.key.anywhere"
