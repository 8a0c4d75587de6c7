import datetime as dt
import random

from marketplace.core.quiz import next_attempt_at, score, shuffled

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(hours=24)


def test_score_passes_at_exactly_the_pass_mark():
    result = score({1: 10, 2: 20, 3: 30, 4: 40, 5: 50}, {1: 10, 2: 20, 3: 30, 4: 40, 5: 99}, 80)
    assert (result.correct, result.total, result.percent, result.passed) == (4, 5, 80, True)


def test_score_fails_below_the_pass_mark_without_rounding_up():
    # 2 of 3 is 66.67 %: a 67 % pass mark must not be met by rounding.
    result = score({1: 1, 2: 2, 3: 3}, {1: 1, 2: 2}, 67)
    assert (result.percent, result.passed) == (66, False)


def test_an_empty_quiz_never_passes():
    assert score({}, {}, 50).passed is False


def test_attempts_are_allowed_until_the_limit_inside_the_cooldown():
    assert next_attempt_at([], NOW, 2, DAY) is None
    assert next_attempt_at([NOW - dt.timedelta(hours=1)], NOW, 2, DAY) is None


def test_a_third_attempt_inside_the_cooldown_waits_for_the_oldest_failure_to_expire():
    failures = [NOW - dt.timedelta(hours=5), NOW - dt.timedelta(hours=1)]
    assert next_attempt_at(failures, NOW, 2, DAY) == NOW - dt.timedelta(hours=5) + DAY


def test_failures_older_than_the_cooldown_no_longer_count():
    failures = [NOW - dt.timedelta(hours=30), NOW - dt.timedelta(hours=25)]
    assert next_attempt_at(failures, NOW, 2, DAY) is None


def test_shuffled_keeps_every_item_and_leaves_the_input_alone():
    items = list(range(20))
    order = shuffled(items, random.Random(7))
    assert sorted(order) == items and order != items and items == list(range(20))
