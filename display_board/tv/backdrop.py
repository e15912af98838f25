"""The TV's backdrop: every panel, bar and stripe under the text, in one layer.

Measured at 1920×1080 on Mesa's software renderer (llvmpipe, 2 cores): Kivy's default shader
samples a texture for every pixel, even for a plain colour, and blends it — a full-screen
rectangle cost ~17 ms, and the TV's panels, bars and stripes added up to more than two
screens of such pixels (a frame took 52 ms). Here the shapes are opaque, drawn by a shader that
only writes a colour, with blending off, and the background colour only where no shape is, so
each pixel of the window is filled once; the backdrop covers the whole window, so the window is
not cleared first (see TvSink._on_draw).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kivy.graphics import Callback, Color, Ellipse, Rectangle, RenderContext
from kivy.graphics.opengl import GL_BLEND, glDisable, glEnable
from kivy.uix.widget import Widget

SOLID_FS = """
$HEADER$
void main(void) {
    gl_FragColor = frag_color;
}
"""


Rect = tuple[float, float, float, float]  # x, y, width, height


@dataclass(frozen=True)
class Shape:
    rgba: tuple[float, float, float, float]
    pos: tuple[float, float]
    size: tuple[float, float]
    radius: float = 0.0
    round_top: bool = field(default=True, kw_only=True)  # False: only the bottom corners are rounded
    key: str = field(default="", kw_only=True)  # a shape whose colour changes later (the flashing panel)

    @property
    def rect(self) -> Rect:
        return (self.pos[0], self.pos[1], self.size[0], self.size[1])

    def corners(self) -> list[Rect]:
        """The squares a rounded shape leaves partly uncovered."""
        if self.radius <= 0:
            return []
        x, y, w, h = self.rect
        r = min(self.radius, w / 2, h / 2)
        bottom = [(x, y, r, r), (x + w - r, y, r, r)]
        return bottom + [(x, y + h - r, r, r), (x + w - r, y + h - r, r, r)] if self.round_top else bottom

    def pieces(self) -> tuple[list[Rect], list[tuple[float, float, float, float, float]]]:
        """The shape as rectangles and quarter discs (centre x, y, radius, start and end angle,
        Kivy's degrees: 0 up, clockwise). Kivy's RoundedRectangle is a fan of long thin
        triangles from the centre, which the software renderer sets up tile by tile: a frame
        with the TV's seven rounded panels took ~2 ms longer."""
        x, y, w, h = self.rect
        r = min(self.radius, w / 2, h / 2)
        if r <= 0:
            return [self.rect], []
        rects = [(x + r, y, w - 2 * r, h), (x, y + r, r, h - 2 * r), (x + w - r, y + r, r, h - 2 * r)]
        discs = [(x + w - r, y + r, r, 90, 180), (x + r, y + r, r, 180, 270)]
        if self.round_top:
            discs += [(x + r, y + h - r, r, 270, 360), (x + w - r, y + h - r, r, 0, 90)]
        else:
            rects += [(x, y + h - r, r, r), (x + w - r, y + h - r, r, r)]
        return rects, discs


def uncovered(area: Rect, covers: list[Rect]) -> list[Rect]:
    """The parts of `area` that no rectangle of `covers` covers, as a few disjoint rectangles:
    the grid of all the edges, free cells merged along each band, equal runs merged down."""
    ax, ay, aw, ah = area

    def edges(lo: float, size: float, pairs) -> list[float]:
        return sorted({lo, lo + size, *(min(max(v, lo), lo + size) for a, b in pairs for v in (a, a + b))})

    xs = edges(ax, aw, [(x, w) for x, _, w, _ in covers])
    ys = edges(ay, ah, [(y, h) for _, y, _, h in covers])
    done: list[Rect] = []
    open_runs: dict[tuple[float, float], list[float]] = {}  # (x0, x1) → [y0, y1] still growing
    for y0, y1 in zip(ys, ys[1:]):
        cy = (y0 + y1) / 2
        band = [c for c in covers if c[1] <= cy < c[1] + c[3]]
        runs: list[tuple[float, float]] = []
        start = None
        for x0, x1 in zip(xs, xs[1:]):
            cx = (x0 + x1) / 2
            free = not any(c[0] <= cx < c[0] + c[2] for c in band)
            if free and start is None:
                start = x0
            elif not free and start is not None:
                runs.append((start, x0))
                start = None
        if start is not None:
            runs.append((start, xs[-1]))
        grown: dict[tuple[float, float], list[float]] = {}
        for run in runs:
            span = open_runs.pop(run, None)  # the bands are contiguous: a span left open ends at y0
            grown[run] = [span[0], y1] if span else [y0, y1]
        for (x0, x1), (sy0, sy1) in open_runs.items():
            done.append((x0, sy0, x1 - x0, sy1 - sy0))
        open_runs = grown
    for (x0, x1), (sy0, sy1) in open_runs.items():
        done.append((x0, sy0, x1 - x0, sy1 - sy0))
    return done


class Backdrop(Widget):
    """Opaque single-colour shapes, drawn before (under) every label."""

    def __init__(self, **kw) -> None:
        self.canvas = RenderContext(use_parent_projection=True, use_parent_modelview=True,
                                    use_parent_frag_modelview=True)
        self.canvas.shader.fs = SOLID_FS
        super().__init__(**kw)
        self.colors: dict[str, Color] = {}

    def paint(self, background, shapes: list[Shape]) -> None:
        """The background colour where no shape is (and under rounded corners), then the shapes
        in order (a later one may lie on an earlier one: the stripes on their panel)."""
        self.canvas.clear()
        self.colors = {}
        free = uncovered((self.x, self.y, self.width, self.height), [s.rect for s in shapes])
        free += [c for s in shapes for c in s.corners()]
        with self.canvas:
            Callback(_blend_off)
            Color(*background)
            for x, y, w, h in free:
                Rectangle(pos=(x, y), size=(w, h))
            for s in shapes:
                color = Color(*s.rgba)
                if s.key:
                    self.colors[s.key] = color
                rects, discs = s.pieces()
                for x, y, w, h in rects:
                    Rectangle(pos=(x, y), size=(w, h))
                for cx, cy, r, start, end in discs:
                    Ellipse(pos=(cx - r, cy - r), size=(2 * r, 2 * r), angle_start=start, angle_end=end, segments=12)
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
