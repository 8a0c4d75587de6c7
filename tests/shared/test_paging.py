"""A page of a longer list counts its pages from the total, with one page even when nothing matches."""

from marketplace.shared.paging import ResultPage


def test_the_pages_are_the_total_over_the_page_size_rounded_up():
    assert [ResultPage([], total, 1, 50).pages for total in (0, 1, 50, 51, 100, 101)] == [1, 1, 1, 2, 2, 3]
