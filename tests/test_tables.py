from fractions import Fraction

import pytest

from starlib.tables import format_table


def test_columns_are_aligned_and_formatted():
    text = format_table([(1, 0.123456, "a"), (10, Fraction(1, 3), None)], ["n", "p", "note"],
                        formats=["", ".3f", ""])
    assert text.splitlines() == [
        " n      p  note",
        "--  -----  ----",
        " 1  0.123     a",
        "10  0.333     -",
    ]


def test_exact_values_print_exactly_without_a_format():
    assert format_table([(Fraction(1, 3),)], ["x"], formats="").splitlines()[-1] == "1/3"


def test_integer_titles_are_printed_as_numbers():
    assert format_table([("a", 0.5)], ["", 2], formats=["", ".1f"]).splitlines() == ["     2", "-  ---", "a  0.5"]


@pytest.mark.parametrize("kwargs, word", [
    (dict(rows=[(1,)], headers=[]), "headers"),
    (dict(rows=[(1, 2)], headers=["a"]), "rows"),
    (dict(rows=[(1,)], headers=["a"], formats=[".2f", ".2f"]), "formats"),
    (dict(rows=[(1,)], headers=["a"], width=0), "width"),
    (dict(rows=[("x" * 81,)], headers=["a"]), "width"),
    (dict(rows=[(1, 2)], headers=["a", 2.5]), "headers"),
    (dict(rows=[(1, 2)], headers=["a", None]), "headers"),
    (dict(rows=[(1, 2)], headers=[True, "b"]), "headers"),
])
def test_bad_input_names_the_argument(kwargs, word):
    with pytest.raises(ValueError, match=word):
        format_table(**kwargs)
