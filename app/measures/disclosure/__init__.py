"""Statistical disclosure control: which cells of a table of counts to withhold before it is published.

A table counts cases by group (its rows, e.g. neighbourhoods) and by measure (its columns), with the whole-period
totals in the TOTAL row. k is a column's threshold (5 unless the table says otherwise); a count from 1 to k-1 is
small, and a small count of people could identify them. Zero is shown as zero.

What is withheld (`suppress`):

1. Primary: every cell of a non-exempt column whose count is small.
2. Complements: where a child column counts a subset of its parent's cases (`nested`), parent - child counts the
   parent's cases outside the child. It is never published but anyone can work it out, so it must not be small
   either. The same holds between a grandparent and a grandchild (the grandparent's cases outside the grandchild).
3. Secondary: cells withheld so that no withheld cell and no complement can be worked out as small:
   (a) no published non-exempt cell is small;
   (b) no line gives away a small sum: a column whose TOTAL is published, where the sum of the withheld group
       cells is TOTAL minus the published ones; a complement's column, where TOTAL's complement minus the
       complements that can be worked out row by row is the sum of the others; and a row whose child and parent
       are both published, where their difference is the complement. (A row whose child alone is withheld gives
       only child + complement = parent, the published parent itself, judged by the parent's own threshold.)
   (c) every small withheld cell and every small complement can be moved, in some table consistent with all that is
       published (counts >= 0, children within parents, groups adding up to TOTAL), to 0 or to k or more; so what
       can be worked out about it is never "between 1 and k-1".
4. The TOTAL row is decided first, on its own, exactly as for a table without groups: the same figures are also
   published without a breakdown, and a cell shown there cannot be hidden here. The group cells are then chosen
   to protect the groups and the TOTAL row's withheld cells alike; no extra TOTAL cell is ever withheld for them.
5. Secondary cells are chosen to lose as little as possible: the smallest non-zero counts first (a withheld zero
   rarely protects anything: with one other withheld cell in its column, that cell is TOTAL minus the published
   ones all the same), ties broken by row and column order. Exempt columns (published whole by law) are never
   withheld, neither as primary nor as secondary cells.

How (c) is ensured: for each small quantity the package looks for a certificate, a change to withheld cells that
keeps every published figure and every constraint and moves the quantity to 0 or to k. It changes the quantity's
own row (with whatever else in that row must follow) and makes up the difference in each column through the TOTAL
(where withheld) or through other groups. The primary cells give most quantities one already; for each of the rest
in turn, the cheapest cells that give it one are withheld, and the lines of rule (b) are mended after each, until
every quantity is protected (a fixpoint: cells are only ever added, and a certificate stays one as they are).

Impossible cases. When no choice of cells gives a small quantity a certificate (the cells it would need are
exempt, or in the TOTAL row, which is decided already), every non-exempt group cell of its column lines is
withheld: its column, and for a complement its ancestor's column too. Unless bounds then prove that nothing
withheld in the groups could hide it (it is pinned by published exempt or TOTAL cells), every non-exempt group
cell of its nesting tree is withheld as well: the certificates looked for are not every possible one, and
withholding the whole tree is the most the groups can do. A table without groups has no group cells to add.

Where each part lives: `suppress` (here) decides the TOTAL row, then the groups (rule 4).
app.measures.disclosure.table holds the table as given (CountTable, TOTAL, DEFAULT_K), its validation and the grid
by index that the rest works on; app.measures.disclosure.protection, the cells withheld so far and the fixpoint
that adds to them (primary cells, mended lines, the cheapest cells for each small quantity, the impossible cases);
app.measures.disclosure.certificates, the search for certificates and the bounds that show when there can be none;
app.measures.disclosure.nested, the months, quarters and financial years decided together, so that no difference or
sum of answers over different periods gives away what one answer withholds.
"""
from __future__ import annotations

from app.measures.disclosure.protection import _withhold
from app.measures.disclosure.table import DEFAULT_K, TOTAL, CountTable, _validated

__all__ = ["DEFAULT_K", "TOTAL", "CountTable", "suppress"]
# Periods decided together (months, quarters, financial years) live in app.measures.disclosure.nested.


def suppress(table: CountTable, total_hidden: frozenset[str] | None = None) -> frozenset[tuple[str, str]]:
    """Return the cells (row, column) to withhold, TOTAL-row cells included.

    total_hidden: the TOTAL row's withheld columns as a coarser period's table decided them (see nested), used as
    they are instead of deciding the row alone.
    """
    grid = _validated(table)
    total_grid = grid.without_groups()
    total_hidden_alone, impossible = _withhold(total_grid, fixed_total=None, skip=frozenset())
    if total_hidden is None:
        total_columns = {c for c in range(len(grid.columns)) if total_hidden_alone[0][c]}
    else:
        unknown = set(total_hidden) - set(grid.columns)
        if unknown:
            raise ValueError(f"withheld TOTAL cells of columns not in the table: {sorted(unknown)}")
        total_columns = {grid.columns.index(name) for name in total_hidden}
    if not grid.groups:
        return frozenset((TOTAL, grid.columns[c]) for c in total_columns)
    # The TOTAL row's small quantities that nothing could protect on their own stay as they are with groups too.
    skip = frozenset((grid.total, c, a) for (_, c, a) in impossible)
    hidden, _ = _withhold(grid, fixed_total=total_columns, skip=skip)
    labels = (*table.rows, TOTAL)
    return frozenset((labels[r], grid.columns[c]) for r, row in enumerate(hidden) for c, h in enumerate(row) if h)
