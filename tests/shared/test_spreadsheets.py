"""CSV files for spreadsheets: `;`, a byte order mark, formulas defused, numbers left numbers."""

from __future__ import annotations

from marketplace.shared import spreadsheets


def test_a_file_opens_in_a_french_spreadsheet_and_runs_no_formula():
    content = spreadsheets.text(["name", "amount", "note"], [
        ["=HYPERLINK(\"http://x\")", "-12.50", "+33 6 12"],
        ["-Atelier", -1250, "@sum"],
        ["Élodie; \"la\" pro", "7", "\tx"],
    ])
    assert content.startswith("\ufeffname;amount;note\r\n")
    assert spreadsheets.read(content) == [
        ["name", "amount", "note"],
        ["'=HYPERLINK(\"http://x\")", "-12.50", "'+33 6 12"],
        ["'-Atelier", "-1250", "'@sum"],
        ["Élodie; \"la\" pro", "7", "'\tx"],
    ]


def test_a_stream_sends_the_header_first_then_a_piece_per_chunk():
    pieces = list(spreadsheets.stream(["a"], [[["1"], ["2"]], [["3"]]]))
    assert pieces == ["\ufeffa\r\n", "1\r\n2\r\n", "3\r\n"]
