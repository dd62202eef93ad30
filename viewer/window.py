"""The SDL window (PySDL2): shows frames drawn by draw.render, scaled to the window's size
with the aspect kept, and turns SDL events into viewer actions. Only this file imports SDL,
and only when a window is opened."""
from __future__ import annotations

import ctypes
import os
import sys
import warnings

import numpy as np

__all__ = ["NoDisplay", "Window", "sdl"]


class NoDisplay(RuntimeError):
    """No window can be opened (no display, no video driver, or no SDL library)."""


def sdl():
    """The sdl2 module, imported on first use (pysdl2-dll's SDL unless PYSDL2_DLL_PATH says
    otherwise); raises NoDisplay when it cannot be loaded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Using SDL2 binaries from pysdl2-dll ..."
            import sdl2
    except ImportError as e:
        raise NoDisplay(f"SDL2 could not be loaded ({e})") from e
    return sdl2


# Video drivers that show nothing: SDL falls back to them when there is no display.
_INVISIBLE_DRIVERS = {"offscreen", "dummy", "evdev"}


def _display_problem() -> str | None:
    """Why no window could be seen, or None. A driver named in SDL_VIDEODRIVER is trusted
    (the tests ask for "dummy"); on Linux a window needs X11 or Wayland otherwise."""
    if os.environ.get("SDL_VIDEODRIVER"):
        return None
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        return "no display: neither DISPLAY nor WAYLAND_DISPLAY is set"
    return None


def _software_gl(s, renderer_name: str) -> bool:
    """Whether an OpenGL renderer (its context current here) runs on the CPU."""
    if not renderer_name.startswith("opengl"):
        return False
    address = s.SDL_GL_GetProcAddress(b"glGetString")
    if not address:
        return False
    gl_get_string = ctypes.CFUNCTYPE(ctypes.c_char_p, ctypes.c_uint)(address)
    name = (gl_get_string(0x1F01) or b"").decode(errors="replace").lower()  # GL_RENDERER
    return any(word in name for word in ("llvmpipe", "softpipe", "software", "swrast"))


# Keys -> actions; SDL_QUIT and closing the window also give "quit".
_KEYS = {" ": "pause", "s": "screenshot", "a": "scale", "q": "quit", "\x1b": "quit"}


class Window:
    """A resizable window of a fixed logical size (width x height pixels of frame).

    software=True asks for SDL's software renderer (the tests read pixels back from it);
    otherwise SDL picks, usually a GPU one, and an OpenGL that runs on the CPU is swapped
    for the software renderer. Raises NoDisplay when no window can be opened.
    """

    def __init__(self, width: int, height: int, title: str = "evoae", software: bool = False):
        problem = _display_problem()
        if problem:
            raise NoDisplay(problem)
        s = self._sdl = sdl()
        self.width, self.height = width, height
        self.window = self.renderer = self.texture = None
        if (sys.platform.startswith("linux") and not os.environ.get("SDL_VIDEODRIVER")
                and not os.environ.get("WAYLAND_DISPLAY")):
            s.SDL_SetHint(s.SDL_HINT_VIDEODRIVER, b"x11")  # X only: skip Wayland's probe
        if s.SDL_InitSubSystem(s.SDL_INIT_VIDEO) != 0:
            raise NoDisplay(self._error())
        try:
            driver = (s.SDL_GetCurrentVideoDriver() or b"").decode()
            if driver in _INVISIBLE_DRIVERS and not os.environ.get("SDL_VIDEODRIVER"):
                raise NoDisplay(f"no display: SDL found only its {driver!r} video driver")
            name = self._open(title, software)
            if not software and _software_gl(s, name):
                # OpenGL without a GPU (Mesa's llvmpipe) costs several ms of CPU per frame,
                # taken from the evolution; SDL's own software path costs under one
                self._destroy()
                name = self._open(title, True)
            self.description = f"SDL {driver} video, {name} renderer"
        except BaseException:
            self.close()
            raise
        self._event = s.SDL_Event()

    def _open(self, title: str, software: bool) -> str:
        """Create the window, its renderer and the frame texture; return the renderer's name."""
        s = self._sdl
        s.SDL_SetHint(s.SDL_HINT_RENDER_SCALE_QUALITY, b"0" if software else b"1")
        # Software: the window's pixels go to the display without OpenGL in between.
        s.SDL_SetHint(s.SDL_HINT_FRAMEBUFFER_ACCELERATION, b"0" if software else b"1")
        self.window = s.SDL_CreateWindow(
            title.encode(), s.SDL_WINDOWPOS_CENTERED, s.SDL_WINDOWPOS_CENTERED,
            self.width, self.height, s.SDL_WINDOW_RESIZABLE | s.SDL_WINDOW_SHOWN)
        if not self.window:
            raise NoDisplay(self._error())
        self.renderer = s.SDL_CreateRenderer(self.window, -1,
                                             s.SDL_RENDERER_SOFTWARE if software else 0)
        if not self.renderer and not software:  # no GPU renderer: fall back
            self.renderer = s.SDL_CreateRenderer(self.window, -1, s.SDL_RENDERER_SOFTWARE)
        if not self.renderer:
            raise NoDisplay(self._error())
        info = s.SDL_RendererInfo()
        s.SDL_GetRendererInfo(self.renderer, ctypes.byref(info))
        s.SDL_RenderSetLogicalSize(self.renderer, self.width, self.height)  # letterboxed
        self.texture = s.SDL_CreateTexture(self.renderer, s.SDL_PIXELFORMAT_RGB24,
                                           s.SDL_TEXTUREACCESS_STREAMING, self.width,
                                           self.height)
        if not self.texture:
            raise NoDisplay(self._error())
        return info.name.decode()

    def _error(self) -> str:
        message = self._sdl.SDL_GetError().decode(errors="replace") or "unknown SDL error"
        for name in ("SDL_VIDEODRIVER", "WAYLAND_DISPLAY", "DISPLAY"):
            if os.environ.get(name):
                return f"{message}; {name}={os.environ[name]}"
        return message

    def show(self, frame: np.ndarray) -> None:
        """Upload frame (height, width, 3) uint8 RGB and present it."""
        s = self._sdl
        frame = np.ascontiguousarray(frame, dtype=np.uint8)
        if frame.shape != (self.height, self.width, 3):
            raise ValueError(f"frame has shape {frame.shape}, the window shows "
                             f"({self.height}, {self.width}, 3)")
        s.SDL_UpdateTexture(self.texture, None, frame.ctypes.data_as(ctypes.c_void_p),
                            self.width * 3)
        self._copy()
        s.SDL_RenderPresent(self.renderer)

    def _copy(self) -> None:
        s = self._sdl
        s.SDL_SetRenderDrawColor(self.renderer, 0, 0, 0, 255)
        s.SDL_RenderClear(self.renderer)
        s.SDL_RenderCopy(self.renderer, self.texture, None, None)

    def read_pixels(self) -> np.ndarray:
        """What the window shows, read back from the renderer: (h, w, 3) uint8 RGB at the
        window's output size (equal to the frame's while the window is not resized)."""
        s = self._sdl
        w, h = ctypes.c_int(), ctypes.c_int()
        s.SDL_GetRendererOutputSize(self.renderer, ctypes.byref(w), ctypes.byref(h))
        self._copy()  # presenting may leave the back buffer undefined: draw it again
        out = np.empty((h.value, w.value, 3), dtype=np.uint8)
        # The logical size would scale the read rectangle too: read the output as it is.
        s.SDL_RenderSetLogicalSize(self.renderer, 0, 0)
        s.SDL_RenderSetViewport(self.renderer, None)
        if s.SDL_RenderReadPixels(self.renderer, None, s.SDL_PIXELFORMAT_RGB24,
                                  out.ctypes.data_as(ctypes.c_void_p), w.value * 3) != 0:
            raise RuntimeError(f"SDL_RenderReadPixels: {self._error()}")
        s.SDL_RenderSetLogicalSize(self.renderer, self.width, self.height)
        return out

    def events(self) -> list[str]:
        """Poll all pending events; return the actions: "pause", "screenshot", "scale",
        "quit", "redraw" (the window was exposed, resized or moved)."""
        s = self._sdl
        actions = []
        event = self._event
        while s.SDL_PollEvent(ctypes.byref(event)):
            if event.type == s.SDL_QUIT:
                actions.append("quit")
            elif event.type == s.SDL_WINDOWEVENT:
                if event.window.event == s.SDL_WINDOWEVENT_CLOSE:
                    actions.append("quit")
                else:  # exposed, resized, moved, ...: the frame must be presented again
                    actions.append("redraw")
            elif event.type == s.SDL_KEYDOWN and not event.key.repeat:
                sym = event.key.keysym.sym
                key = chr(sym) if 0 < sym < 128 else ""
                if key in _KEYS:
                    actions.append(_KEYS[key])
        return actions

    def push_key(self, key: str) -> None:
        """Queue a key press as if typed (for tests and scripted demos)."""
        s = self._sdl
        event = s.SDL_Event()
        event.type = s.SDL_KEYDOWN
        event.key.type = s.SDL_KEYDOWN
        event.key.state = s.SDL_PRESSED
        event.key.windowID = s.SDL_GetWindowID(self.window)
        event.key.keysym.sym = ord(key)
        if s.SDL_PushEvent(ctypes.byref(event)) < 0:
            raise RuntimeError(f"SDL_PushEvent: {self._error()}")

    def _destroy(self) -> None:
        s = self._sdl
        if self.texture:
            s.SDL_DestroyTexture(self.texture)
        if self.renderer:
            s.SDL_DestroyRenderer(self.renderer)
        if self.window:
            s.SDL_DestroyWindow(self.window)
        self.window = self.renderer = self.texture = None

    def close(self) -> None:
        self._destroy()
        self._sdl.SDL_QuitSubSystem(self._sdl.SDL_INIT_VIDEO)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
