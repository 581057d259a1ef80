"""`mmviz slides -o DIR`: every lesson as a reveal.js deck that works with no network at all,
plus a PDF handout per deck.

How a deck is made:
1. The JavaScript it needs (reveal.js 4, require.js, jQuery 2 and the Jupyter widgets HTML
   manager) is installed once from the npm registry with `npm ci`, from the
   `slides/package.json` and `slides/package-lock.json` of the repository, into the user's
   cache folder (`~/.cache/mmviz/slides-npm/`, reused while the lock file is unchanged; see
   npm_cache_dir), and the files the decks load are copied to `DIR/assets/`.
2. Each notebook is executed headless with `MMVIZ_STATIC=1`, so `mmviz.lessons` shows every
   stepper as its self-contained HTML stepper (it steps without a kernel) instead of a live
   widget.
3. nbconvert's reveal exporter writes the deck with the template in `slides_template/`, whose
   script and style URLs all point into `assets/`. Any http(s) script or stylesheet that is
   left is removed, and the build fails if a remote URL would still be loaded.
4. Headless Chromium (Playwright, the system browser, network blocked) prints
   `DECK.html?print-pdf` to `DECK.pdf`.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from ..model.errors import MmvizError
from .atomic import write_atomic

STATIC_ENV = "MMVIZ_STATIC"
SLIDE_W, SLIDE_H = 1280, 720     # 16:9: the lecture room (pictures' text >= 18 px)
TEMPLATE_DIR = Path(__file__).with_name("slides_template")
CHROMIUM = os.environ.get("MMVIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# What each deck loads, relative to DIR: (target in assets/, source under node_modules/).
_ASSETS = [
    ("reveal.js/dist", "reveal.js/dist"),
    ("reveal.js/plugin/notes", "reveal.js/plugin/notes"),
    ("require.js", "requirejs/require.js"),
    ("jquery.min.js", "jquery/dist/jquery.min.js"),
    ("html-manager", "@jupyter-widgets/html-manager/dist"),
]
_SKIP_SUFFIXES = (".map", ".LICENSE.txt", ".esm.js")
_HTML_MANAGER_KEEP = ("embed-amd.js", ".woff", ".woff2", ".ttf", ".eot", ".svg")


class SlidesError(MmvizError):
    """The decks could not be built; the message says what is missing."""


# --- where things are ----------------------------------------------------------------------------

def repo_root() -> Path:
    """The mmviz repository (it holds notebooks/ and slides/package-lock.json)."""
    candidates = []
    if os.environ.get("MMVIZ_REPO"):
        candidates.append(Path(os.environ["MMVIZ_REPO"]))
    candidates += [Path(__file__).resolve().parents[2], Path.cwd()]
    for c in candidates:
        if (c / "notebooks").is_dir() and (c / "slides" / "package-lock.json").is_file():
            return c
    raise SlidesError("cannot find the lessons: run `mmviz slides` inside the mmviz repository "
                      "(it needs notebooks/ and slides/package-lock.json)")


def lesson_notebooks(root: Path, only=None) -> list:
    nbs = sorted(p for p in (root / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    if not nbs:
        raise SlidesError(f"no numbered notebooks in {root / 'notebooks'}")
    if only:
        chosen = []
        for want in only:
            match = [p for p in nbs if want in (p.name, p.stem) or p.name.startswith(want)]
            if not match:
                raise SlidesError(f"no lesson matches {want!r}; lessons: "
                                  + ", ".join(p.stem for p in nbs))
            chosen += [p for p in match if p not in chosen]
        nbs = chosen
    return nbs


# --- JavaScript assets -------------------------------------------------------------------------

def npm_cache_dir(out: Path | None = None) -> Path:
    """Where `npm ci` installs the decks' JavaScript: $MMVIZ_SLIDES_CACHE if set, else the
    user's cache folder ($XDG_CACHE_HOME or ~/.cache, then mmviz/slides-npm); if that cannot
    be made, OUT/.slides-npm beside the decks. Never the repository, unless asked."""
    if os.environ.get("MMVIZ_SLIDES_CACHE"):
        return Path(os.environ["MMVIZ_SLIDES_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    cache = Path(base) / "mmviz" / "slides-npm"
    try:
        cache.mkdir(parents=True, exist_ok=True)
        if os.access(cache, os.W_OK | os.X_OK):
            return cache
    except OSError:
        pass
    if out is None:
        raise SlidesError(f"cannot create the npm cache {cache}: set MMVIZ_SLIDES_CACHE to a "
                          "writable folder")
    return Path(out) / ".slides-npm"


def npm_modules(root: Path, log=print, out: Path | None = None) -> Path:
    """node_modules for the decks, installed with `npm ci` and reused while the lock is unchanged."""
    src = root / "slides"
    lock = (src / "package-lock.json").read_bytes()
    digest = hashlib.sha256(lock + (src / "package.json").read_bytes()).hexdigest()[:16]
    cache = npm_cache_dir(out)
    stamp = cache / ".installed"
    modules = cache / "node_modules"
    if stamp.is_file() and stamp.read_text().strip() == digest and modules.is_dir():
        return modules
    npm = shutil.which("npm")
    if npm is None:
        raise SlidesError("npm is needed once to install the decks' JavaScript (reveal.js, "
                          "require.js, jQuery, the widget manager): install Node.js and npm")
    cache.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        write_atomic(cache / name, (src / name).read_bytes())
    log(f"installing the decks' JavaScript with npm ci into {cache} ...")
    t0 = time.perf_counter()
    proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts",
                           "--loglevel=error"], cwd=cache, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise SlidesError("npm ci failed: " + " | ".join(tail))
    write_atomic(stamp, (digest + "\n").encode())
    log(f"  done in {time.perf_counter() - t0:.1f} s")
    return modules


def copy_assets(modules: Path, out: Path) -> Path:
    assets = out / "assets"
    for target, source in _ASSETS:
        src = modules / source
        dst = assets / target
        if not src.exists():
            raise SlidesError(f"{src} is missing: delete {modules.parent} and build again")
        if src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(dst, src.read_bytes())
            continue
        keep_only = _HTML_MANAGER_KEEP if target == "html-manager" else None
        for f in src.rglob("*"):
            if not f.is_file() or f.name.endswith(_SKIP_SUFFIXES):
                continue
            if keep_only and not f.name.endswith(keep_only):
                continue
            d = dst / f.relative_to(src)
            d.parent.mkdir(parents=True, exist_ok=True)
            if not d.exists() or d.stat().st_size != f.stat().st_size:
                write_atomic(d, f.read_bytes())
    write_atomic(assets / "mmviz-slides.css", (TEMPLATE_DIR / "mmviz-slides.css").read_bytes())
    return assets


# --- executing and exporting ---------------------------------------------------------------

def execute(path: Path, static: bool = True, timeout: int = 120):
    """Run a notebook top to bottom in a fresh kernel (this interpreter) and return it."""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    old = os.environ.get(STATIC_ENV)
    if static:
        os.environ[STATIC_ENV] = "1"
    else:
        os.environ.pop(STATIC_ENV, None)
    try:
        # The kernel's own stderr (ipykernel's start-up warnings) is noise here; cell errors
        # and a dying kernel still reach us through the client.
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute(
            stderr=subprocess.DEVNULL)
    finally:
        if old is None:
            os.environ.pop(STATIC_ENV, None)
        else:
            os.environ[STATIC_ENV] = old
    return nb


_REMOTE_TAG = re.compile(
    r"<(script|link)\b[^>]*?(?:src|href)\s*=\s*[\"']?(?:https?:)?//[^>]*>(?:\s*</script>)?",
    re.IGNORECASE)
_REMOTE_IMPORT = re.compile(r"@import\s+url\(\s*[\"']?(?:https?:)?//[^)]*\)\s*;?", re.IGNORECASE)
_REMOTE_LOAD = re.compile(
    r"""<(?:script|link|img|iframe|source)\b[^>]*?(?:src|href)\s*=\s*["']?(?:https?:)?//""",
    re.IGNORECASE)


def make_offline(html: str) -> str:
    """Remove every remaining remote script, stylesheet or CSS import; fail on anything else."""
    html = _REMOTE_TAG.sub("", html)
    html = _REMOTE_IMPORT.sub("", html)
    left = _REMOTE_LOAD.search(html)
    if left:
        raise SlidesError("a deck would still load something from the network: "
                          + html[left.start():left.start() + 120])
    return html


def export_deck(nb, title: str) -> str:
    from nbconvert import SlidesExporter
    from traitlets.config import Config
    c = Config()
    c.SlidesExporter.extra_template_basedirs = [str(TEMPLATE_DIR)]
    c.SlidesExporter.template_name = "mmviz_reveal"
    c.SlidesExporter.reveal_url_prefix = "assets/reveal.js"
    c.SlidesExporter.reveal_theme = "white"
    c.SlidesExporter.reveal_transition = "none"
    c.SlidesExporter.reveal_number = "c/t"
    c.SlidesExporter.reveal_width = str(SLIDE_W)
    c.SlidesExporter.reveal_height = str(SLIDE_H)
    c.SlidesExporter.require_js_url = "assets/require.js"
    c.SlidesExporter.jquery_url = "assets/jquery.min.js"
    c.SlidesExporter.widget_renderer_url = "assets/html-manager/embed-amd.js"
    c.SlidesExporter.mathjax_url = ""
    c.SlidesExporter.font_awesome_url = ""
    c.SlidesExporter.exclude_input_prompt = True
    c.SlidesExporter.exclude_output_prompt = True
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_input_tags = ("hide-input",)
    c.TagRemovePreprocessor.remove_cell_tags = ("hide-in-slides",)
    exporter = SlidesExporter(config=c)
    nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(nb, resources={"mmviz_css_url": "assets/mmviz-slides.css"})
    return make_offline(body)


def _title(nb, fallback):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip().replace("`", "")
    return fallback


# --- PDF handouts ------------------------------------------------------------------------------

def print_pdfs(decks, out: Path, log=print) -> list:
    """Print each deck with `?print-pdf` in headless Chromium, every network request blocked."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise SlidesError("the PDF handouts need Playwright (pip install playwright) and "
                          "Chromium; or pass --no-pdf") from None
    if not Path(CHROMIUM).exists():
        raise SlidesError(f"no Chromium at {CHROMIUM} (set MMVIZ_CHROMIUM, or pass --no-pdf)")
    pdfs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(viewport={"width": SLIDE_W, "height": SLIDE_H})
            ctx.route("**/*", lambda route: route.continue_()
                      if route.request.url.startswith("file://") else route.abort())
            for deck in decks:
                page = ctx.new_page()
                page.goto(deck.resolve().as_uri() + "?print-pdf")
                page.wait_for_selector(".reveal.ready", state="attached", timeout=30000)
                page.wait_for_function("document.querySelectorAll('.pdf-page').length > 0",
                                       timeout=30000)
                # every embedded stepper must have built its page before printing
                page.wait_for_function(
                    "Array.from(document.querySelectorAll('iframe.mmviz-stepper')).every("
                    "f => f.contentDocument && f.contentDocument.readyState === 'complete'"
                    " && f.contentDocument.querySelector('#mmviz-next'))", timeout=60000)
                page.wait_for_timeout(300)
                pdf = deck.with_suffix("").with_suffix(".pdf")
                # a slide whose key frames run on fills several sheets: count sheets, not
                # slides (Chromium adds a blank sheet after the last one without a range)
                pages = page.evaluate(
                    "(() => { const h = parseFloat(document.body.style.height) || 1;"
                    " return Array.from(document.querySelectorAll('.pdf-page')).reduce("
                    "(n, p) => n + Math.max(1, Math.round(p.offsetHeight / h)), 0); })()")
                # (Chromium adds a blank sheet after the last slide without page_ranges)
                write_atomic(pdf, page.pdf(prefer_css_page_size=True, print_background=True,
                                           page_ranges=f"1-{pages}"))
                page.close()
                pdfs.append(pdf)
                log(f"  {pdf.name}")
        finally:
            browser.close()
    return pdfs


# --- the index page ----------------------------------------------------------------------------

def _index_html(entries, with_pdf) -> str:
    import html
    rows = []
    for stem, title in entries:
        pdf = f' &middot; <a href="{stem}.pdf">PDF handout</a>' if with_pdf else ""
        rows.append(f'<li><a href="{stem}.slides.html">{html.escape(title)}</a>'
                    f' <span class="stem">({stem})</span>{pdf}</li>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>mmviz lessons: slides</title><style>body{font-family:sans-serif;"
            "max-width:46em;margin:2em auto;line-height:1.5}.stem{color:#666;font-size:90%}"
            "</style></head><body><h1>mmviz lessons: slides</h1>"
            "<p>Each deck works offline: open it straight from disk. Press <kbd>S</kbd> for "
            "the speaker notes, <kbd>Esc</kbd> for the overview.</p><ul style=\"list-style:none;"
            "padding:0\">" + "".join(rows) + "</ul></body></html>\n")


# --- the command -------------------------------------------------------------------------------

def build(out: Path, only=None, pdf: bool = True, log=print) -> dict:
    """Build the decks into `out`; returns {'decks': [...], 'pdfs': [...], 'seconds': {...}}."""
    root = repo_root()
    notebooks = lesson_notebooks(root, only)
    out.mkdir(parents=True, exist_ok=True)
    times = {}
    t0 = time.perf_counter()
    copy_assets(npm_modules(root, log, out), out)
    times["assets"] = time.perf_counter() - t0
    decks, entries = [], []
    t0 = time.perf_counter()
    for path in notebooks:
        t1 = time.perf_counter()
        nb = execute(path, static=True)
        title = _title(nb, path.stem)
        deck = out / f"{path.stem}.slides.html"
        write_atomic(deck, export_deck(nb, title).encode("utf-8"))
        decks.append(deck)
        entries.append((path.stem, title))
        log(f"  {deck.name}  ({time.perf_counter() - t1:.1f} s)")
    times["decks"] = time.perf_counter() - t0
    if only is None or not (out / "index.html").exists():
        write_atomic(out / "index.html", _index_html(entries, pdf).encode("utf-8"))
    pdfs = []
    if pdf:
        t0 = time.perf_counter()
        pdfs = print_pdfs(decks, out, log)
        times["pdfs"] = time.perf_counter() - t0
    return {"decks": decks, "pdfs": pdfs, "seconds": times}


def build_slides(args) -> int:
    out = Path(args.output)
    log = (lambda *a, **k: print(*a, **k, file=sys.stderr))
    result = build(out, only=args.only, pdf=not args.no_pdf, log=log)
    secs = result["seconds"]
    print(f"{len(result['decks'])} decks and {len(result['pdfs'])} PDF handouts in {out} "
          f"(assets {secs['assets']:.1f} s, decks {secs['decks']:.1f} s"
          + (f", PDFs {secs['pdfs']:.1f} s" if "pdfs" in secs else "") + ")")
    print(f"open {out / 'index.html'}")
    return 0
