"""ID-card readers: the serial SAM module (GA/T 467 frames) and PC/SC (social security card, card UID)."""
