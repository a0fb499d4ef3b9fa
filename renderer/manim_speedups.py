"""Make Manim's held frames cheap to encode.

A narrated scene spends most of its time holding a still frame while the voice
finishes. Manim 0.22 encodes a held frame ``repeat`` times by building a fresh RGBA
frame and colour-converting it on every repeat; converting once and re-sending the
same (immutable) picture with new timestamps gives identical output in about half
the time at 720p. The patch applies only to the encoder shape it was written for;
any other Manim version renders exactly as upstream does.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any


def install() -> bool:
    """Patch Manim's segment encoder in this process; False when the version is not the one expected."""
    import av
    from manim.scene import video_segment_encoder

    encoder_class: Any = getattr(video_segment_encoder, "VideoSegmentEncoder", None)
    original = getattr(encoder_class, "write_frame", None)
    if original is None or getattr(original, "_videojob_patched", False):
        return bool(original)
    needed = ("_validate_frame", "_next_pts", "_stream", "_container", "spec", "_operation_error")
    if not all(name in original.__code__.co_names for name in needed):
        return False

    def write_frame(self: Any, pixels: Any, *, repeat: int = 1) -> None:
        self._validate_frame(pixels, repeat)
        time_base = Fraction(self.spec.frame_rate.denominator, self.spec.frame_rate.numerator)
        try:
            frame = av.VideoFrame.from_ndarray(pixels, format="rgba")
            if repeat > 1:  # convert once; the encoder takes its own reference to the picture
                frame = frame.reformat(format=self._stream.codec_context.pix_fmt)
            for _ in range(repeat):
                frame.pts = self._next_pts
                frame.time_base = time_base
                self._next_pts += 1
                for packet in self._stream.encode(frame):
                    self._container.mux(packet)
        except BaseException as error:
            raise self._operation_error("encode", error) from error

    write_frame._videojob_patched = True  # type: ignore[attr-defined]
    encoder_class.write_frame = write_frame
    return True
