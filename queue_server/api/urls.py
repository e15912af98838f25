"""Addresses a citizen opens from outside the hall (QR codes, links in messages): the hall's
published `hall.public_url` when set, else the address the request came to."""

from __future__ import annotations

from fastapi import Request


def public_base(request: Request) -> str:
    return (request.app.state.service.cfg.hall.public_url or str(request.base_url)).rstrip("/")


def phone_url(request: Request, ticket_token: str) -> str:
    """The ticket's phone page (/t/<token>), printed as the ticket's QR code."""
    return f"{public_base(request)}/t/{ticket_token}"
