"""The RS-485 bus of the window callers (叫号器) and evaluation keypads (评价器). See docs/keypads.md."""
