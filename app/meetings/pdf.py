"""PDF rendering of a meeting paper with fpdf2 (pure Python), in a Unicode font shipped as a pip package.

Any text renders: characters the font lacks become "?" and invisible controls (bidi overrides, zero-width joiners,
control codes) are dropped before fpdf2 sees them, so nothing raises and fpdf2 never logs the missing characters
(which could be pieces of a name: security bar LG-2). A table row too tall for a page, which fpdf2 cannot split,
is laid out as a list instead.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

import font_source_sans_pro
from fontTools.ttLib import TTFont
from fpdf import FPDF, FontFace

from app.meetings.papers_document import Document, Section, Table

FONT_DIR = Path(font_source_sans_pro.font_directory)
REGULAR, BOLD = FONT_DIR / "SourceSansPro-Regular.ttf", FONT_DIR / "SourceSansPro-Bold.ttf"
FAMILY = "papers"
REPLACEMENT = "?"
#: fpdf2 swaps this for the page count in every string it draws: a private-use character, which printable() drops
#: from all text, so no one's typing can turn into a page number.
PAGES_ALIAS = "\ue000" * 5  # room for a five-digit count
LINE, TABLE_LINE, PADDING = 5.0, 4.5, 1.0
#: A table row taller than this share of the page body is laid out as a list (fpdf2 cannot split a row).
MAX_ROW_SHARE = 0.6


@lru_cache(maxsize=1)
def supported() -> frozenset[int]:
    """The code points the font has glyphs for (regular and bold carry the same set)."""
    with TTFont(str(REGULAR), lazy=True) as font:
        return frozenset(font.getBestCmap())


def printable(value) -> str:
    """Return the text as the font can draw it: line breaks kept, invisible controls dropped, the rest "?"."""
    text = "" if value is None else str(value)
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    glyphs, out = supported(), []
    for ch in text:
        if ch == "\n":
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if category in ("Zl", "Zp"):
            out.append("\n")
        elif category[0] == "C":  # controls, format marks, surrogates, private use, unassigned
            continue
        else:
            out.append(ch if ord(ch) in glyphs else REPLACEMENT)
    return "".join(out)


class _PaperPDF(FPDF):
    def __init__(self, document: Document):
        super().__init__(format="A4")
        self.document = document
        self.add_font(FAMILY, "", str(REGULAR))
        self.add_font(FAMILY, "B", str(BOLD))
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=18)
        self.alias_nb_pages(PAGES_ALIAS)

    def header(self):
        self.set_font(FAMILY, "", 8)
        self.set_text_color(80)
        label = f"{self.document.caption}: {self.document.kind}"
        self.cell(self.epw * 0.8, 5, printable(label)[:100])
        if self.document.is_draft:
            self.set_font(FAMILY, "B", 11)
            self.set_text_color(180, 0, 0)
            self.cell(self.epw * 0.2, 5, "DRAFT", align="R")
        self.ln(8)
        self.set_text_color(0)

    def footer(self):
        self.set_y(-14)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(80)
        self.multi_cell(0, 4, printable(self.document.footer) + f" Page {self.page_no()} of {PAGES_ALIAS}.")
        self.set_text_color(0)


def render(document: Document) -> bytes:
    """Return the document as PDF bytes."""
    pdf = _PaperPDF(document)
    pdf.set_title(printable(f"{document.caption} {document.kind}"))
    pdf.set_lang("en-GB")
    pdf.set_creator("Panel case coordination")
    pdf.add_page()
    pdf.set_font(FAMILY, "", 11)
    _text(pdf, document.caption, 11)
    _text(pdf, document.title, 18, bold=True)
    if document.is_draft:
        _text(pdf, f"DRAFT {document.kind}: not issued", 12, bold=True)
    pdf.ln(2)
    for label, value in document.details:
        pdf.set_font(FAMILY, "B", 10)
        pdf.multi_cell(45, LINE, printable(label), new_x="RIGHT", new_y="TOP")
        pdf.set_font(FAMILY, "", 10)
        pdf.multi_cell(0, LINE, printable(value), new_x="LMARGIN", new_y="NEXT")
    for section in document.sections:
        _section(pdf, section)
    return bytes(pdf.output())


def _text(pdf: FPDF, text: str, size: float, *, bold: bool = False) -> None:
    pdf.set_font(FAMILY, "B" if bold else "", size)
    pdf.multi_cell(0, size * 0.5, printable(text), new_x="LMARGIN", new_y="NEXT")


def _section(pdf: FPDF, section: Section) -> None:
    pdf.ln(3)
    _text(pdf, section.heading, 14 if section.level == 2 else 12, bold=True)
    pdf.ln(1)
    for paragraph in section.paragraphs:
        _text(pdf, paragraph, 10)
        pdf.ln(1)
    if section.table is not None and section.table.rows:
        _table(pdf, section.table)


def _table(pdf: FPDF, table: Table) -> None:
    if table.caption:
        _text(pdf, table.caption, 10, bold=True)
    header = [printable(h) for h in table.header]
    rows = [[printable(c) for c in row] for row in table.rows]
    pdf.set_font(FAMILY, "", 9)
    widths = [pdf.epw * w / sum(table.widths) for w in table.widths]
    if not all(_fits(pdf, widths, row) for row in [header, *rows]):
        _as_list(pdf, header, rows)
        return
    with pdf.table(col_widths=table.widths, line_height=TABLE_LINE, padding=PADDING, text_align="LEFT",
                   headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)), repeat_headings=1,
                   first_row_as_headings=True) as grid:
        grid.row(header)
        for row in rows:
            grid.row(row)
    pdf.ln(2)


def _fits(pdf: FPDF, widths: list[float], row: list[str]) -> bool:
    """Whether the row's tallest cell fits comfortably on one page."""
    limit = pdf.eph * MAX_ROW_SHARE
    for width, cell in zip(widths, row, strict=True):
        lines = pdf.multi_cell(max(width - 2 * PADDING, 5), TABLE_LINE, cell, dry_run=True, output="LINES")
        if len(lines) * TABLE_LINE + 2 * PADDING > limit:
            return False
    return True


def _as_list(pdf: FPDF, header: list[str], rows: list[list[str]]) -> None:
    """Lay each row out as "Header: value" lines, which break across pages like any paragraph."""
    for row in rows:
        for label, value in zip(header, row, strict=True):
            if not value:
                continue
            pdf.set_font(FAMILY, "B", 9)
            pdf.multi_cell(0, TABLE_LINE, label, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(FAMILY, "", 9)
            pdf.multi_cell(0, TABLE_LINE, value, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
