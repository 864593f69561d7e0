"""Plain-text tables that fit the book's code area (80 characters).

Every chapter prints its results through :func:`format_table`, so that a
table that would be clipped on the page is an error, not a scroll bar.
"""

import numbers
from fractions import Fraction

PAGE_WIDTH = 80


def _cell(value, spec):
    if isinstance(value, str):
        return value
    if value is None:
        return "-"
    if isinstance(value, Fraction):
        value = float(value) if spec else value
    if spec and isinstance(value, numbers.Real) and not isinstance(value, bool):
        return format(value, spec)
    return str(value)


def format_table(rows, headers, formats=None, width=PAGE_WIDTH):
    """Rows as a right-aligned text table with one header line and a rule.

    Parameters
    ----------
    rows : iterable
        One sequence per row (a tuple or list), as many entries as ``headers``. Strings are
        printed as they are, ``None`` as ``-``, numbers with ``formats``.
    headers : sequence of str or int
        Column titles; an integer title (such as a value of M) is printed with ``str``.
    formats : sequence of str or str, optional
        A format spec per column (such as ``".4f"``), or one for every
        column; ``""`` prints ``str(value)``. Default: ``".4g"`` for numbers.
    width : int, optional
        The widest line allowed; a wider table raises ``ValueError`` so that
        nothing printed in the book is clipped. Default 80.

    Returns
    -------
    str
        The table, lines joined by newlines, without a trailing newline.
    """
    for name, value in (("rows", rows), ("headers", headers), ("formats", formats)):
        if value is not None and not isinstance(value, str) and not hasattr(value, "__iter__"):
            raise ValueError(f"{name} must be a sequence; got {name} = {value!r}")
    if rows is None or headers is None or isinstance(headers, str):
        raise ValueError(f"rows and headers must be sequences (headers of column titles); got {headers!r}")
    headers = list(headers)
    for i, h in enumerate(headers):
        if not isinstance(h, (str, numbers.Integral)) or isinstance(h, bool):
            raise ValueError(f"headers[{i}] must be a column title (a string or an integer); got headers[{i}] = {h!r}")
    headers = [str(h) for h in headers]
    if not headers:
        raise ValueError("headers must name at least one column; got []")
    if formats is None:
        formats = ".4g"
    if isinstance(formats, str):
        formats = [formats] * len(headers)
    formats = list(formats)
    if len(formats) != len(headers):
        raise ValueError(f"formats must have one entry per column ({len(headers)}); got {len(formats)}")
    if isinstance(width, bool) or not isinstance(width, numbers.Integral) or width < 1:
        raise ValueError(f"width must be a positive integer; got {width!r}")
    cells = []
    for i, row in enumerate(rows):
        if isinstance(row, str) or not hasattr(row, "__iter__"):
            raise ValueError(f"rows[{i}] must be a sequence of entries; got {row!r}")
        row = list(row)
        if len(row) != len(headers):
            raise ValueError(f"rows[{i}] has {len(row)} entries; headers name {len(headers)} columns")
        try:
            cells.append([_cell(value, spec) for value, spec in zip(row, formats)])
        except (TypeError, ValueError) as err:
            raise ValueError(f"formats {formats!r} cannot print rows[{i}]: {err}") from err
    widths = [max([len(h)] + [len(r[j]) for r in cells]) for j, h in enumerate(headers)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
    widest = max(len(line) for line in lines)
    if widest > width:
        raise ValueError(f"the table is {widest} characters wide, over width = {width}; "
                         "drop or narrow columns, or split the table")
    return "\n".join(lines)
