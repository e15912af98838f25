"""Touch-friendly widgets shared by every screen (their look is in kv/widgets.kv)."""

from __future__ import annotations

from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from kiosk.ui.theme import COLORS


class KLabel(Label):
    """A wrapping label whose font follows the app's scale (elder mode = larger)."""

    base_size = NumericProperty(34)


class KButton(ButtonBehavior, Label):
    """A big flat button; `bg` is its colour, darker while pressed; disabled = grey."""

    bg = ColorProperty(COLORS["primary"])
    fg = ColorProperty((1, 1, 1, 1))
    base_size = NumericProperty(36)
    radius = NumericProperty(18)
    subtitle = StringProperty("")
    action = StringProperty("")  # a name tests and the tour use to find the button

    def on_press(self) -> None:
        from kivy.app import App

        app = App.get_running_app()
        if app is not None and hasattr(app, "core") and app.core is not None:
            app.core.activity()


class Card(BoxLayout):
    """A white panel with rounded corners."""

    bg = ColorProperty(COLORS["card"])
    radius = NumericProperty(20)


class Banner(Label):
    level = StringProperty("")
    shown = BooleanProperty(False)
