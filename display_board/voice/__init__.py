"""Offline Mandarin announcements: phrases → clips (espeak-ng or a WAV voice pack) → one queue → speaker."""
