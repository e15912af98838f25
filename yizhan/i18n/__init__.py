"""Message catalogue. Every user-facing string goes through `t()`.

Catalogues are JSON files under `locales/<lang>/<domain>.json` (one domain per
part of the system: common, server, kiosk, display, …); keys are unique across
domains. zh_CN is the default and both languages must hold the same keys
(tests/test_i18n.py checks it).
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Protocol

logger = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).parent / "locales"
DEFAULT_LANG = "zh_CN"
LANGS = ("zh_CN", "en")


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / lang).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for key, value in data.items():
            if key in merged:
                raise ValueError(f"message key {key!r} defined twice ({path.name})")
            merged[key] = value
    return merged


class Named(Protocol):
    name: str
    name_en: str


def local_name(item: Named, lang: str) -> str:
    """A name from hall.yaml (hall, queue, service …) in `lang`: its `name_en` in English when the
    hall wrote one, else the Chinese `name`."""
    return item.name_en if lang == "en" and item.name_en else item.name


def t(key: str, lang: str = DEFAULT_LANG, /, **params: object) -> str:
    """The message `key` in `lang`, formatted with `params`; falls back to zh_CN, then to the key."""
    text = catalogue(lang).get(key)
    if text is None:
        text = catalogue(DEFAULT_LANG).get(key)
        if text is None:
            logger.error("missing message key %s", key)
            return key
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        logger.error("message %s: bad parameters %s", key, sorted(params))
        return text
