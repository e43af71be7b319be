"""The audit of every page the browser walks visit (issue 20): axe-core, the phone width, the words.

The ``page`` fixture (tests/e2e/conftest.py) records the URLs a test's page navigates to. After a
test that passed, each distinct page — by pattern: numbers become N, query values go, except the
tab (``aba``), which shows another list — is opened again in the same (logged-in) browser
context, at 1366×768 and at 390×844, and checked:

- axe-core (``axe-playwright-python``, its bundled axe.min.js: nothing downloaded): no serious or
  critical violation. Always strict.
- at 390 px: a full-page screenshot under test-results/screens/<pattern>.png (a CI artifact), and
  no horizontal scroll (``scrollWidth <= innerWidth``);
- the visible text: no "(s)" plural, no raw platform code (``ACTIVE``, ``PLAYHUB-BASICO``,
  ``active``, ``blocked`` … as whole words).

Every check fails the test that visited the page.

Each pattern is audited once per session (``AUDITED``), which keeps the cost to about a second a
page. The dashboard under /rq is rq-dashboard's (its words are RQ's: queued, failed…): axe only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Error, Page

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = PROJECT_ROOT / "test-results"
SCREENS_DIR = RESULTS_DIR / "screens"


VIEWPORTS = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}
IMPACTS = frozenset({"serious", "critical"})
# Query parameters whose value is another page (a tab), not a filter of the same one.
KEPT_VALUES = frozenset({"aba"})
# Not pages: files, data, the app's static files.
NOT_PAGES = re.compile(r"(\.(csv|json|js|css|png|svg|ico)$|^/static/|^/rq/static/|/data/)")

# A plural written with "(s)": "contrato(s)", "adicionado(s)", "execução(ões)".
PLURAL = re.compile(r"\w\((?:s|es|is|ns|ões|ães)\)")
# Platform codes: their statuses, and product codes (upper case, in parts: PLAYHUB-BASICO).
PLATFORM_CODES = re.compile(
    r"(?<![\w/.-])(?:ACTIVE|INACTIVE|active|inactive|blocked|cancelled|canceled|suspended|"
    r"[A-Z][A-Z0-9]+(?:[-_][A-Z0-9]+)+)(?![\w/.-])"
)
# Pages where a code is the data shown (a product's code, a platform's settings): no words check.
CODE_PAGES = re.compile(r"^/configuracoes/(produtos|plataformas|planos)\b")

axe = Axe()
# Pattern → what its audit found, once per session.
AUDITED: dict[str, list[str]] = {}


def pattern_of(url: str) -> str:
    """/financeiro/.../contratos/12?aba=ativos&q=ana → /financeiro/.../contratos/N?aba=ativos&q="""
    parts = urlsplit(url)
    path = re.sub(r"(?<=/)\d+(?=/|$|\.)", "N", parts.path)
    query = sorted(
        f"{key}={value if key in KEPT_VALUES else ''}" for key, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return path + ("?" + "&".join(query) if query else "")


def file_name(pattern: str) -> str:
    return re.sub(r"[^\w.=-]+", "_", pattern.strip("/")) or "home"


@dataclass
class Recorder:
    """The pages a test's page went to, in order, one URL per pattern."""

    base: str
    urls: dict[str, str] = field(default_factory=dict)

    def attach(self, page: Page) -> None:
        page.on("framenavigated", lambda frame: frame == page.main_frame and self.saw(frame.url))

    def saw(self, url: str) -> None:
        if not url.startswith(self.base + "/"):
            return
        pattern = pattern_of(url[len(self.base) :])
        if not NOT_PAGES.search(urlsplit(pattern).path):
            self.urls.setdefault(pattern, url)


@dataclass
class Finding:
    check: str
    pattern: str
    viewport: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.pattern} @{self.viewport}px: {self.detail}"


def _open(page: Page, url: str) -> bool:
    """The page again, as it is now; False when it is no longer a page of its own (a redirect to
    another pattern, e.g. to /login after a logout; a refusal; a download)."""
    for attempt in range(3):
        try:
            response = page.goto(url, wait_until="load")
            break
        except Error as error:
            if "Download is starting" in str(error):
                return False
            # A page that reloads itself as it loads (a request that ended): once more.
            if "ERR_ABORTED" not in str(error) or attempt == 2:
                raise
            page.wait_for_load_state()
    if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
        return False
    return pattern_of(page.url) == pattern_of(url)


def _axe(page: Page, pattern: str, viewport: str) -> list[Finding]:
    for attempt in range(3):
        try:
            results = axe.run(page)
            break
        except Error:  # the page navigated under axe (it reloads itself): once more
            if attempt == 2:
                raise
            page.wait_for_load_state()
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") not in IMPACTS:
            continue
        targets = "; ".join(" ".join(map(str, node["target"])) for node in violation["nodes"][:5])
        rule = f"{violation['id']} ({violation['impact']}): {violation['help']}"
        first = violation["nodes"][0]
        why = "; ".join(check["message"] for check in first.get("any", [])[:1] + first.get("all", [])[:1])
        found.append(Finding("axe", pattern, viewport, f"{rule} — {targets} — {why}"))
    return found


def _phone(page: Page, pattern: str) -> list[Finding]:
    SCREENS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS_DIR / f"{file_name(pattern)}.png"), full_page=True)
    if pattern.startswith("/rq"):
        return []
    # The page itself wider than the phone, or a part of it (a table) that scrolls sideways.
    sideways = page.evaluate(
        """() => {
            const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                + (typeof e.className === 'string' && e.className.trim()
                   ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
            const found = [];
            const root = document.documentElement;
            if (root.scrollWidth > window.innerWidth) {
                found.push(`page ${root.scrollWidth}px > ${window.innerWidth}px`);
            }
            for (const e of document.querySelectorAll('body *')) {
                const overflow = getComputedStyle(e).overflowX;
                if ((overflow === 'auto' || overflow === 'scroll') && e.scrollWidth > e.clientWidth + 1
                        && e.getClientRects().length) {
                    found.push(`${name(e)} ${e.scrollWidth}px in ${e.clientWidth}px`);
                }
            }
            return found.slice(0, 4);
        }"""
    )
    return [Finding("scroll", pattern, "390", "; ".join(sideways))] if sideways else []


def _words(page: Page, pattern: str) -> list[Finding]:
    if pattern.startswith("/rq"):
        return []
    text = page.inner_text("body")
    found = [
        Finding("plural", pattern, "1366", "“" + " ".join(text[max(0, m.start() - 30) : m.end() + 10].split()) + "”")
        for m in PLURAL.finditer(text)
    ][:3]
    if not CODE_PAGES.search(pattern):
        codes = sorted({m.group(0) for m in PLATFORM_CODES.finditer(text)})
        if codes:
            found.append(Finding("code", pattern, "1366", ", ".join(codes[:8])))
    return found


def audit(context: BrowserContext, urls: dict[str, str]) -> list[Finding]:
    """Every page not audited yet in this session: its findings (all of them, strict or not)."""
    todo = {pattern: url for pattern, url in urls.items() if pattern not in AUDITED}
    if not todo:
        return []
    findings: list[Finding] = []
    page = context.new_page()
    try:
        for pattern, url in todo.items():
            found: list[Finding] = []
            for viewport, size in VIEWPORTS.items():
                page.set_viewport_size(size)
                if not _open(page, url):
                    break
                found += _axe(page, pattern, viewport)
                if viewport == "390":
                    found += _phone(page, pattern)
                else:
                    found += _words(page, pattern)
            else:
                AUDITED[pattern] = [str(each) for each in found]
                findings += found
    finally:
        page.close()
    return findings


def judge(findings: list[Finding], test: str) -> None:
    """Fail the test on any finding."""
    if findings:
        raise AssertionError(
            "The page audit found problems (tests/e2e/audit.py):\n" + "\n".join(f"  {each}" for each in findings)
        )
