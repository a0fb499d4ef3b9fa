"""Piper's input: clauses as espeak-ng cuts them, phonemes with their punctuation, ids as the voice was trained.

The phonemes come from the real espeak-ng (a separate program, milliseconds); the id map
is the real voice's config from its package. A Piper voice fed wrong ids still makes
sound, only not words: these tests are what keeps the mapping exact.
"""

import pytest

from videojob.renderer.errors import NarrationError
from videojob.renderer.piper_voice import (
    CLAUSE_MAX_CHARS,
    SENTENCE_PAUSE_SECONDS,
    Clause,
    PiperVoice,
    _group_lines,
    espeak_phonemes,
    phoneme_ids,
    sentences,
    split_clauses,
)

JOE = PiperVoice.named("en_US-joe-medium").config  # read from the voice's package, as a render reads it


def _phonemes(text: str) -> list[str]:
    clauses = split_clauses(text)
    return sentences(clauses, espeak_phonemes(clauses, JOE.espeak_voice))


def test_the_voice_config_is_read_as_piper_trained_it():
    assert (JOE.sample_rate, JOE.espeak_voice) == (22050, "en-us")
    assert (JOE.noise_scale, JOE.length_scale, JOE.noise_w) == (0.667, 1.0, 0.8)
    assert (JOE.id_map["_"], JOE.id_map["^"], JOE.id_map["$"], JOE.id_map["ˈ"]) == ([0], [1], [2], [120])


def test_ids_begin_and_end_with_their_marks_and_every_symbol_is_followed_by_the_pad():
    symbols = [JOE.id_map[symbol][0] for symbol in "həlˈoʊ"]
    padded = [id_ for symbol in symbols for id_ in (symbol, 0)]
    assert phoneme_ids("həlˈoʊ", JOE.id_map) == [1, 0, *padded, 2]
    assert symbols == [20, 59, 24, 120, 27, 100]


def test_symbols_the_voice_never_learned_are_left_out_rather_than_guessed():
    assert phoneme_ids("a☃b", JOE.id_map) == phoneme_ids("ab", JOE.id_map)


def test_words_become_espeak_ipa_with_the_clause_punctuation_kept_one_string_per_sentence():
    assert _phonemes("Hello, world. How are you today? I'm fine: thanks; really!") == [
        "həlˈoʊ, wˈɜːld.",
        "hˌaʊ ɑːɹ juː tədˈeɪ?",
        "aɪm fˈaɪn: θˈæŋks; ɹˈiəli!",
    ]


def test_numbers_are_read_as_words_and_a_decimal_point_does_not_end_a_sentence():
    assert _phonemes("Then 3.14 is pi") == ["ðˈɛn θɹˈiː pɔɪnt wˈʌn fˈoːɹ ɪz pˈaɪ"]


def test_accents_are_decomposed_and_language_switch_marks_dropped():
    [said] = _phonemes("café au lait")
    assert "(" not in said and "(fr)" not in said
    assert all(symbol in JOE.id_map for symbol in said)


def test_clauses_end_at_punctuation_before_a_space_closing_quotes_included():
    assert split_clauses('He said "stop." Then, at 3.14, go') == [
        Clause('He said "stop', ".", ends_sentence=True),
        Clause('" Then', ",", ends_sentence=False),
        Clause("at 3.14", ",", ends_sentence=False),
        Clause("go", "", ends_sentence=True),
    ]


def test_a_long_clause_is_cut_at_spaces_so_espeak_never_splits_a_word():
    clauses = split_clauses("word " * 200)
    assert all(len(clause.words) <= CLAUSE_MAX_CHARS for clause in clauses)
    assert " ".join(clause.words for clause in clauses).split() == ["word"] * 200
    assert [clause.ends_sentence for clause in clauses] == [False] * (len(clauses) - 1) + [True]


def test_espeak_lines_are_matched_to_clauses_even_when_espeak_cuts_a_clause_or_says_nothing():
    assert _group_lines(["a", "b", "", "", "", "c", "", ""], 3) == ["a b", "", "c"]
    with pytest.raises(NarrationError, match="phonemes for 1 of 2 clauses"):
        _group_lines(["a", ""], 2)


def test_a_narration_with_nothing_to_say_is_a_moment_of_quiet_not_a_failed_voice():
    quiet = PiperVoice.named("en_US-joe-medium").speak("...")
    assert quiet.size == round(SENTENCE_PAUSE_SECONDS * JOE.sample_rate) and not quiet.any()
