"""The Piper voice's graph with its noise as inputs (renderer/piper_graph.py), on the real joe model.

onnxruntime seeds a RandomNormalLike node once per session; here the noise comes from a seed of the
sentence, so the same ids give the same waveform, whatever was spoken before and however much noise
was drawn, while another seed still changes it (the noise is used, not zeroed).
"""

import numpy as np
import onnxruntime  # type: ignore[import-untyped]
import pytest

from videojob.renderer import piper_voice
from videojob.renderer.errors import NarrationError
from videojob.renderer.piper_graph import _model_class, seeded_noise, sentence_seed, with_noise_inputs
from videojob.renderer.piper_voice import PiperVoice, espeak_phonemes, phoneme_ids, sentences, split_clauses

JOE = PiperVoice.named("en_US-joe-medium")


def _ids(text: str) -> list[int]:
    clauses = split_clauses(text)
    return phoneme_ids(sentences(clauses, espeak_phonemes(clauses, JOE.config.espeak_voice))[0], JOE.config.id_map)


def _fresh_voice() -> PiperVoice:
    return PiperVoice(JOE.model, JOE.config)


def test_every_random_node_becomes_an_input_that_says_how_much_it_needed():
    graph = with_noise_inputs(JOE.model.read_bytes())
    session = onnxruntime.InferenceSession(graph.model, providers=["CPUExecutionProvider"])
    names = {value.name for value in session.get_inputs()}
    assert {noise.input for noise in graph.noises} <= names and len(graph.noises) == 2
    ids = _ids("Forces change motion.")
    scales = (JOE.config.noise_scale, JOE.config.length_scale, JOE.config.noise_w)
    inputs = {
        "input": np.array([ids], dtype=np.int64),
        "input_lengths": np.array([len(ids)], dtype=np.int64),
        "scales": np.array(scales, dtype=np.float32),
    }

    def waveform(seed: int) -> tuple[np.ndarray, list[int]]:
        for number, noise in enumerate(graph.noises):
            inputs[noise.input] = seeded_noise(seed, noise, number, 2000 * len(ids))
        audio, *needed = session.run(None, inputs)
        return audio.reshape(-1), [int(count[0]) for count in needed]

    seed = sentence_seed(ids, scales)
    first, needed = waveform(seed)
    second, _ = waveform(seed)
    other, _ = waveform(seed + 1)
    assert np.array_equal(first, second)
    assert not np.array_equal(first, other)  # the noise shapes the sound: it was not dropped
    assert needed[0] == 2 * len(ids)  # the duration predictor's noise: two channels per phoneme id
    assert needed[1] * 256 == first.size * 192  # the latent's: 192 channels per frame of 256 samples


def test_the_audio_does_not_depend_on_what_was_spoken_before_or_on_how_much_noise_was_drawn(monkeypatch):
    text = "When the forces on a body do not cancel, its motion changes."
    alone = _fresh_voice().speak(text)
    after_others = _fresh_voice()
    after_others.speak("Something else first. And then a second sentence.")
    assert np.array_equal(after_others.speak(text), alone)
    monkeypatch.setattr(piper_voice, "NOISE_PER_ID", 100)  # too little: the sentence is run again with more
    assert np.array_equal(_fresh_voice().speak(text), alone)


def test_a_model_without_random_nodes_is_refused_by_name():
    model = _model_class()()
    model.opset_import.add(domain="", version=17)
    node = model.graph.node.add(op_type="Identity", name="only")
    node.input.append("x")
    node.output.append("y")
    with pytest.raises(NarrationError, match="no RandomNormalLike node"):
        with_noise_inputs(model.SerializeToString())
    with pytest.raises(NarrationError, match="not a readable ONNX file"):
        with_noise_inputs(b"\xff\xff\xff not protobuf")
