"""The TV screen (Kivy). Import only in the display process: it needs a window."""
