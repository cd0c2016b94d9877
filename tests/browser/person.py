"""A person at the browser, using a mouse or the keyboard only, with every page checked by axe-core and pictured.

Both ways reach fields by their `name` (or a button or link by its text). By keyboard, the person presses Tab until
the element has focus (so it must be reachable, in a sensible order, and show where focus is), then types, uses
the arrow keys and Space in radio groups and selects, and Enter on buttons and links. Nothing is clicked.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import Locator, Page

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
#: WCAG 2.0, 2.1 and 2.2, levels A and AA.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
MAX_TABS = 400


class AccessibilityFailure(AssertionError):
    pass


class Person:
    def __init__(self, page: Page, mode: str, journey: str, world):
        self.page, self.mode, self.journey, self.world = page, mode, journey, world
        self.pages_checked: list[str] = []
        self._shots = 0

    # --- moving around ---------------------------------------------------------------------------------------

    def visit(self, path: str) -> None:
        """Type an address into the browser (the one thing a keyboard user does outside the page)."""
        self.page.goto(self.world.address + path)
        self.arrived()

    def sign_in(self, user) -> None:
        self.visit("/sign-in")
        self.sign_in_here(user)

    def sign_in_here(self, user) -> None:
        """Sign in on the sign-in page the browser is showing (it may have been sent there, to come back after)."""
        self.fill("email", user.email)
        self.fill("password", self.world.password)
        self.press("Sign in", exact=True)
        self.fill("code", self.world.code(user))
        self.press("Continue")

    def follow(self, text: str, *, exact: bool = False) -> None:
        """Follow a link by its text."""
        self._activate(self.page.get_by_role("link", name=text, exact=exact).first)

    def follow_to(self, path: str) -> None:
        """Follow the link to an address on this site (when several links say the same, as dates can)."""
        self._activate(self.page.locator(f'a[href="{path}"]').first)

    def jump(self, text: str) -> Locator:
        """Follow a link to a place on the same page (as an error summary's are); return what then has focus."""
        target = self.page.get_by_role("link", name=text).first
        if self.mode == "keyboard":
            self._tab_to(target)
            self.page.keyboard.press("Enter")
        else:
            target.click()
        return self.page.locator(":focus")

    def press(self, text: str, *, exact: bool = False) -> None:
        """Press a button by its text (a submit button sends its form)."""
        self._activate(self.page.get_by_role("button", name=text, exact=exact).first)

    def correct(self, message: str) -> None:
        """Follow the error summary's link for a message: the box to correct must then have focus, so that what is
        typed next goes into it (GOV.UK's error summary moves focus to the control the link names)."""
        link = self.page.locator(".govuk-error-summary").get_by_role("link", name=message)
        href = link.get_attribute("href")
        if self.mode == "keyboard":
            self._tab_to(link)
            self.page.keyboard.press("Enter")
        else:
            link.click()
        focused = self.page.evaluate("() => [document.activeElement.tagName, document.activeElement.id]")
        assert focused[0] in ("INPUT", "TEXTAREA", "SELECT") and f"#{focused[1]}" == href, \
            f"following {message!r} ({href}) left focus on {focused}"

    def _activate(self, target: Locator) -> None:
        with self.page.expect_navigation():
            if self.mode == "keyboard":
                self._tab_to(target)
                self.page.keyboard.press("Enter")
            else:
                target.click()
        self.arrived()

    # --- filling in ------------------------------------------------------------------------------------------

    def field(self, name: str, nth: int = 0) -> Locator:
        return self.page.locator(f'[name="{name}"]').nth(nth)

    def fill(self, name: str, text: str, nth: int = 0) -> None:
        """Type into a text box or text area, replacing what is there."""
        target = self.field(name, nth)
        if self.mode == "keyboard":
            self._tab_to(target)
            self.page.keyboard.press("Control+A")
            self.page.keyboard.press("Delete")
            self.page.keyboard.type(text)
        else:
            target.fill(text)

    def date(self, name: str, day, *, parts: tuple[str, ...] = ("day", "month", "year")) -> None:
        """Fill a GOV.UK date input (three boxes that share the field's name)."""
        for n, value in enumerate((day.day, day.month, day.year)[:len(parts)]):
            self.fill(name, str(value), nth=n)

    def choose(self, name: str, value: str) -> None:
        """Choose a radio option (in a group, the keyboard moves with the arrow keys; Space picks the first)."""
        target = self.page.locator(f'input[type="radio"][name="{name}"][value="{value}"]')
        if self.mode != "keyboard":
            target.check()
            return
        self._tab_to(self.page.locator(f'input[type="radio"][name="{name}"]:checked, '
                                       f'input[type="radio"][name="{name}"]').first)
        for _ in range(20):
            if target.evaluate("e => e === document.activeElement"):
                break
            self.page.keyboard.press("ArrowDown")
        assert target.evaluate("e => e === document.activeElement"), f"could not reach {name}={value} by arrows"
        self.page.keyboard.press("Space")
        assert target.is_checked()

    def tick(self, name: str, value: str) -> None:
        """Tick a checkbox."""
        target = self.page.locator(f'input[type="checkbox"][name="{name}"][value="{value}"]')
        if self.mode == "keyboard":
            self._tab_to(target)
            if not target.is_checked():
                self.page.keyboard.press("Space")
        else:
            target.check()
        assert target.is_checked()

    def select(self, name: str, label: str) -> None:
        """Pick an option of a select by its text (by keyboard: arrow keys until it is the chosen one)."""
        target = self.field(name)
        if self.mode != "keyboard":
            target.select_option(label=label)
            return
        self._tab_to(target)
        wanted = target.evaluate("(e, label) => [...e.options].findIndex(o => o.text.trim() === label)", label)
        assert wanted >= 0, f"{name} has no option {label!r}"
        self.page.keyboard.press("Home")
        for _ in range(wanted):
            self.page.keyboard.press("ArrowDown")
        assert target.evaluate("e => e.selectedIndex") == wanted

    def _tab_to(self, target: Locator) -> None:
        """Press Tab until the element has focus: it must be reachable by keyboard."""
        target.wait_for(state="attached")
        for _ in range(MAX_TABS):
            if target.evaluate("e => e === document.activeElement"):
                self._assert_focus_visible(target)
                return
            self.page.keyboard.press("Tab")
        raise AssertionError(f"{target} cannot be reached with the Tab key on {self.page.url}")

    def _assert_focus_visible(self, target: Locator) -> None:
        """Focus must show (WCAG 2.4.7): an outline, or GOV.UK's yellow focus background or shadow."""
        style = target.evaluate("""e => { const s = getComputedStyle(e);
            return [s.outlineStyle, s.outlineWidth, s.boxShadow, s.backgroundColor]; }""")
        outline, width, shadow, background = style
        visible = (outline not in ("none", "") and width not in ("0px", "")) or shadow not in ("none", "") \
            or background in ("rgb(255, 221, 0)",)
        if not visible and target.evaluate("e => e.type === 'radio' || e.type === 'checkbox'"):
            visible = True  # GOV.UK draws the focus ring on the label's ::before, which has no computed style here
        assert visible, f"no visible focus on {target} ({style})"

    # --- every page ------------------------------------------------------------------------------------------

    def arrived(self) -> None:
        """On each new page: no WCAG 2.2 A/AA violation (axe-core), and a picture for the reviewer."""
        self.page.wait_for_load_state("load")
        self.check_accessibility()
        self.screenshot()

    def check_accessibility(self) -> None:
        # Evaluated through the DevTools protocol, which the page's CSP (no inline script) does not govern.
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text())
        violations = self.page.evaluate(
            "async tags => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations"
            ".map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))",
            WCAG_AA)
        self.pages_checked.append(self.page.url)
        if violations:
            raise AccessibilityFailure(f"{self.page.url}: {json.dumps(violations, indent=1)}")

    def screenshot(self) -> None:
        if self.mode != "mouse":  # the pages look the same either way: one set of pictures is enough
            return
        self._shots += 1
        path = re.sub(r"[^a-z0-9]+", "-", self.page.url.split("//", 1)[-1].split("/", 1)[-1].lower()).strip("-")
        SCREENSHOTS.mkdir(exist_ok=True)
        self.page.screenshot(path=SCREENSHOTS / f"{self.journey}-{self._shots:02d}-{path or 'home'}.png",
                             full_page=True)

    # --- reading ---------------------------------------------------------------------------------------------

    def text(self) -> str:
        return self.page.locator("main").inner_text()

    def sees(self, text: str) -> None:
        assert text in self.text(), f"{text!r} not on {self.page.url}"
