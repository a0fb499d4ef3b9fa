"""The words the renderer writes into a frame on its own, in the lecture's language.

Every other word a viewer reads in a frame comes from the storyboard. Two come from here: the
key-takeaways card's heading, and the word that marks a Markdown section's continuation cards
("Refraction (continued)"). A lecture in Chinese or Arabic must not get English words, so they
are looked up by the storyboard's language (a BCP 47 tag, as written, then with its last subtag
dropped: ``zh-Hant-TW``, ``zh-Hant``, ``zh``). A language missing from the table gets no heading
and an ellipsis rather than foreign words; a storyboard may always give its own ``heading``, and
a Markdown lecture's own section heading is used as it is.

The table covers the languages lectures are most often written in among those the renderer
narrates (``espeak-ng --voices``).
"""

from __future__ import annotations

from typing import Final, NamedTuple


class FrameWords(NamedTuple):
    takeaways: str  # the key-takeaways card's heading
    continued: str  # after a section's title on the cards that carry the rest of its narration


WORDS: Final[dict[str, FrameWords]] = {
    "af": FrameWords("Belangrikste punte", "vervolg"),
    "ar": FrameWords("النقاط الرئيسية", "تابع"),
    "bg": FrameWords("Основното", "продължение"),
    "bn": FrameWords("মূল কথা", "চলমান"),
    "ca": FrameWords("Idees clau", "continuació"),
    "cs": FrameWords("Hlavní body", "pokračování"),
    "da": FrameWords("Det vigtigste", "fortsat"),
    "de": FrameWords("Das Wichtigste", "Fortsetzung"),
    "el": FrameWords("Βασικά σημεία", "συνέχεια"),
    "en": FrameWords("Key takeaways", "continued"),
    "es": FrameWords("Ideas clave", "continuación"),
    "et": FrameWords("Peamine", "järg"),
    "fa": FrameWords("نکات کلیدی", "ادامه"),
    "fi": FrameWords("Tärkeimmät asiat", "jatkuu"),
    "fr": FrameWords("À retenir", "suite"),
    "he": FrameWords("נקודות עיקריות", "המשך"),
    "hi": FrameWords("मुख्य बातें", "जारी"),
    "hr": FrameWords("Ključne točke", "nastavak"),
    "hu": FrameWords("A lényeg", "folytatás"),
    "id": FrameWords("Poin penting", "lanjutan"),
    "it": FrameWords("Punti chiave", "continua"),
    "ja": FrameWords("重要なポイント", "続き"),
    "ko": FrameWords("핵심 정리", "계속"),
    "lt": FrameWords("Svarbiausia", "tęsinys"),
    "lv": FrameWords("Galvenais", "turpinājums"),
    "ms": FrameWords("Perkara utama", "sambungan"),
    "nb": FrameWords("Det viktigste", "fortsettelse"),
    "nl": FrameWords("Belangrijkste punten", "vervolg"),
    "no": FrameWords("Det viktigste", "fortsettelse"),
    "pl": FrameWords("Najważniejsze", "ciąg dalszy"),
    "pt": FrameWords("Pontos-chave", "continuação"),
    "ro": FrameWords("Idei principale", "continuare"),
    "ru": FrameWords("Главное", "продолжение"),
    "sk": FrameWords("Hlavné body", "pokračovanie"),
    "sl": FrameWords("Ključne točke", "nadaljevanje"),
    "sr": FrameWords("Кључне тачке", "наставак"),
    "sv": FrameWords("Det viktigaste", "fortsättning"),
    "sw": FrameWords("Mambo muhimu", "inaendelea"),
    "ta": FrameWords("முக்கிய குறிப்புகள்", "தொடர்ச்சி"),
    "th": FrameWords("ประเด็นสำคัญ", "ต่อ"),
    "tr": FrameWords("Önemli noktalar", "devam"),
    "uk": FrameWords("Головне", "продовження"),
    "ur": FrameWords("اہم نکات", "جاری"),
    "vi": FrameWords("Điểm chính", "tiếp theo"),
    "zh": FrameWords("关键要点", "续"),
    "cmn": FrameWords("关键要点", "续"),
    "zh-hans": FrameWords("关键要点", "续"),
    "zh-hant": FrameWords("關鍵要點", "續"),
    "zh-tw": FrameWords("關鍵要點", "續"),
    "zh-hk": FrameWords("關鍵要點", "續"),
    "zh-mo": FrameWords("關鍵要點", "續"),
    "yue": FrameWords("關鍵要點", "續"),
}


def _words(language: str) -> FrameWords | None:
    tag = language.lower()
    while tag:
        if tag in WORDS:
            return WORDS[tag]
        tag = tag.rpartition("-")[0]
    return None


def takeaways_heading(language: str) -> str | None:
    """The key-takeaways heading in ``language``, or None when the table has no words for it."""
    words = _words(language)
    return words.takeaways if words else None


def continued_mark(language: str) -> str:
    """What follows a section's title on its continuation cards, in ``language`` (" (continued)")."""
    words = _words(language)
    return f" ({words.continued})" if words else " …"


__all__ = ["WORDS", "FrameWords", "continued_mark", "takeaways_heading"]
