"""Registered signal types. Adding one is a new module plus one line in ``SIGNAL_TYPES``."""

from __future__ import annotations

from clearance.signals.audio_chromaprint import AudioChromaprint
from clearance.signals.base import SignalType
from clearance.signals.image_pdq import ImagePdq
from clearance.signals.image_sscd import ImageSscd
from clearance.signals.text_lexical import TextLexical
from clearance.signals.text_semantic import TextSemantic
from clearance.signals.video_frames import VideoFrames

SIGNAL_TYPES: tuple[type[SignalType], ...] = (
    TextLexical,
    TextSemantic,
    ImagePdq,
    ImageSscd,
    VideoFrames,
    AudioChromaprint,
)
