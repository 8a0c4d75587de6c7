from types import SimpleNamespace

import pytest

from marketplace.core.quiz_text import QuizTextError, format_quiz, parse

TEXT = """Which bulb lasts longest?
* LED
- Halogen

What does IP44 mean?
- Dimmable
*  Splash-proof
"""


def test_parse_reads_questions_and_marks_the_correct_choice():
    assert parse(TEXT) == [
        {"text": "Which bulb lasts longest?", "choices": [{"text": "LED", "is_correct": True},
                                                          {"text": "Halogen", "is_correct": False}]},
        {"text": "What does IP44 mean?", "choices": [{"text": "Dimmable", "is_correct": False},
                                                     {"text": "Splash-proof", "is_correct": True}]},
    ]


def test_format_is_the_inverse_of_parse():
    questions = [SimpleNamespace(text=q["text"], choices=[SimpleNamespace(**c) for c in q["choices"]])
                 for q in parse(TEXT)]
    assert parse(format_quiz(questions)) == parse(TEXT)


@pytest.mark.parametrize(("text", "reason", "line"), [
    ("* LED", "choice_without_question", 1),
    ("Question?\nLED", "choice_needs_marker", 2),
    ("Question?\n* ", "empty_choice", 2),
])
def test_parse_says_which_line_is_wrong(text, reason, line):
    with pytest.raises(QuizTextError) as error:
        parse(text)
    assert (error.value.message, error.value.line) == (reason, line)
