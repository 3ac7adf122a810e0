"""Property-based tests of every writer: whatever text comes from the data (random unicode,
quotes, control characters, formulas, markup, very long text), no output turns it into a
formula, markup, a link, a script or a terminal escape, and no customer number survives whole.
"""
from __future__ import annotations

import html
import json
import re

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netdiag.data.privacy import mask_customer, mask_phone_numbers, visible_count
from netdiag.views.leaflet import safe_json
from netdiag.views.report_pages import md_escape
from netdiag.views.sanitize import CONTROL, csv_cell, escape_html
from netdiag.views.terminal import terminal_safe
from netdiag.views.writers import csv_text, write_csv

BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
#: text with the characters that matter most to a writer, and any unicode besides
HOSTILE = st.text(alphabet=st.one_of(st.sampled_from(list("=+-@\t\r\n\"',;|<>&`$*_[]()!#\\{}:/.\x1b\x07\x9b\u202e\u2028")),
                                     st.characters(exclude_categories=("Cs",))), max_size=80)  # files hold no lone surrogates
FORMULA = re.compile(r"^[=+\-@\t\r]")
NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


@BOUNDED
@given(st.lists(st.tuples(HOSTILE, HOSTILE), min_size=1, max_size=8))
def test_csv_keeps_every_row_and_runs_no_formula(tmp_path, rows):
    frame = pd.DataFrame(rows, columns=["description", "detail"])
    path = write_csv(frame, tmp_path / "out.csv")
    back = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert len(back) == len(frame)  # nothing lost, nothing split
    for col in frame.columns:
        for original, written in zip(frame[col], back[col]):
            assert not (FORMULA.match(written) and not NUMBER.match(written)), written
            expected = terminal_safe(original) if re.search(CONTROL, original) else original
            assert written in (expected, "'" + expected), (original, written)
    assert csv_text(frame).count("\n") >= len(frame)


@BOUNDED
@given(HOSTILE)
def test_a_formula_gets_an_apostrophe_and_a_number_does_not(text):
    out = csv_cell(text)
    assert not (isinstance(out, str) and FORMULA.match(out) and not NUMBER.match(out))
    assert out in (text, "'" + text)


@BOUNDED
@given(HOSTILE)
def test_html_escaping_makes_no_markup_and_loses_nothing(text):
    out = escape_html(text)
    assert "<" not in out and ">" not in out and '"' not in out
    assert html.unescape(out) == terminal_safe(text)  # control characters and direction overrides shown, not obeyed


@BOUNDED
@given(st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), HOSTILE),
                    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(HOSTILE, inner, max_size=4)),
                    max_leaves=12))
def test_json_in_a_page_cannot_close_the_script_and_reads_back_the_same(obj):
    out = safe_json(obj)
    assert not re.search("[<>&\u2028\u2029]", out)
    assert json.loads(out) == obj


@BOUNDED
@given(HOSTILE)
def test_markdown_from_the_data_renders_as_plain_text(text):
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("gfm-like").render(f"| a |\n|---|\n| {md_escape(text)} |\n\n{md_escape(text)}\n")
    tags = set(re.findall(r"<(/?[a-z]+)", rendered))
    assert tags <= {"p", "/p", "table", "/table", "thead", "/thead", "tbody", "/tbody", "tr", "/tr", "th", "/th",
                    "td", "/td", "br"}, tags


@BOUNDED
@given(HOSTILE)
def test_terminal_text_holds_no_control_character(text):
    out = terminal_safe(text)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", out)
    assert json.loads(json.dumps(out)) == out


@BOUNDED
@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_a_customer_number_shows_at_most_four_digits_and_never_more_than_half(number):
    masked = mask_customer(number)
    readable = sum(ch.isdigit() for ch in masked)
    assert len(masked) == len(number) and readable == visible_count(len(number)) <= min(4, len(number) // 2)


@BOUNDED
@given(HOSTILE, st.text(alphabet="0123456789", min_size=7, max_size=15), HOSTILE)
def test_a_phone_number_in_free_text_never_survives_whole(before, number, after):
    masked = mask_phone_numbers(f"{before} {number} {after}")
    digits = re.compile(r"\d")
    # at most 4 of the number's digits are left (the text around it may lose some too, never gain)
    assert len(digits.findall(masked)) <= len(digits.findall(before + after)) + 4
