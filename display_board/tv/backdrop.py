"""The TV's backdrop: every panel, bar and stripe under the text, in one layer.

Measured at 1920×1080 on Mesa's software renderer (llvmpipe, 2 cores): Kivy's default shader
samples a texture for every pixel, even for a plain colour, and blends it — a full-screen
rectangle cost ~17 ms, and the TV's panels, bars and stripes added up to more than two
screens of such pixels (a frame took 52 ms). Here the shapes are opaque, drawn by a shader that
only writes a colour, with blending off (~8 ms a screen), and the backdrop covers the whole
window so the window is not cleared first (see TvSink._on_draw).
"""

from __future__ import annotations

from dataclasses import dataclass

from kivy.graphics import Callback, Color, Rectangle, RenderContext, RoundedRectangle
from kivy.graphics.opengl import GL_BLEND, glDisable, glEnable
from kivy.uix.widget import Widget

SOLID_FS = """
$HEADER$
void main(void) {
    gl_FragColor = frag_color;
}
"""


@dataclass(frozen=True)
class Shape:
    rgba: tuple[float, float, float, float]
    pos: tuple[float, float]
    size: tuple[float, float]
    radius: float = 0.0
    key: str = ""  # a shape whose colour changes later (the flashing panel)


class Backdrop(Widget):
    """Opaque single-colour shapes, drawn before (under) every label."""

    def __init__(self, **kw) -> None:
        self.canvas = RenderContext(use_parent_projection=True, use_parent_modelview=True,
                                    use_parent_frag_modelview=True)
        self.canvas.shader.fs = SOLID_FS
        super().__init__(**kw)
        self.colors: dict[str, Color] = {}

    def paint(self, shapes: list[Shape]) -> None:
        self.canvas.clear()
        self.colors = {}
        with self.canvas:
            Callback(_blend_off)
            for s in shapes:
                color = Color(*s.rgba)
                if s.key:
                    self.colors[s.key] = color
                if s.radius > 0:
                    RoundedRectangle(pos=s.pos, size=s.size, radius=[s.radius])
                else:
                    Rectangle(pos=s.pos, size=s.size)
            Callback(_blend_on)

    def recolor(self, key: str, rgba) -> None:
        """A colour change without repainting (the flashing current call)."""
        color = self.colors.get(key)
        if color is not None:
            color.rgba = rgba


def _blend_off(*_) -> None:
    glDisable(GL_BLEND)


def _blend_on(*_) -> None:
    glEnable(GL_BLEND)
