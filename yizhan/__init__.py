"""yizhan (一站): shared foundations — configuration, clock, i18n, personal data, messaging."""

__version__ = "0.1.0"
