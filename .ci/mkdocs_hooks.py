"""MkDocs hooks for the htsr documentation site (``mkdocs.yml``: ``hooks: [.ci/mkdocs_hooks.py]``).

What the stock MkDocs and its plugins do not do:

* **Notebooks from ``notebooks/``.**  Every ``notebooks/*.ipynb`` that exists at build
  time becomes a page (``notebooks/<name>/``), rendered by the ``mkdocs-jupyter`` plugin
  from its stored outputs, and is listed under the nav section titled ``Notebooks``
  (its entries are generated here, titled by each notebook's first heading, so the nav
  never names a notebook that is absent).  Relative links in a notebook's Markdown
  cells (relative to ``notebooks/``) are pointed at the pages they mean.
* **Links that leave ``docs/``.**  The pages link to the scripts and modules that
  produced their numbers (``../benchmarks/bench_fit.py``, ``../htsr/models/powerlaw.py``).
  ``mkdocs build --strict`` rejects those as broken, so they are rewritten: to the file
  in the repository (``{repo_url}/blob/{repo_branch}/{path}``) when ``repo_url`` is set in
  ``mkdocs.yml``, otherwise to a copy of the file placed in the site under ``source/``.
  A link to a notebook goes to its page.  A link to a path that does not exist in the
  repository is left as it is, so ``--strict`` still reports it.
* **Sphinx roles in docstrings.**  ``:class:`~htsr.errors.DataError``` and the like
  become optional cross-references (a link where the object is documented, plain code
  otherwise) instead of the literal ``:class:`` that mkdocstrings leaves.
* **MathJax.**  ``javascripts/mathjax.js`` (generated, not a file in docs/) configures
  and loads MathJax 3 for the arithmatex formulas, except on notebook pages, which carry
  nbconvert's own MathJax.
"""

from __future__ import annotations

import json
import os
import posixpath
import re

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

NOTEBOOK_DIR = "notebooks"
NOTEBOOK_SECTION = "Notebooks"
# the order of the Notebooks section; notebooks not named here follow, alphabetically
NOTEBOOK_ORDER = (
    "quickstart",
    "layer_report_minilm",
    "universality_classes",
    "lsa_k_selection",
    "generalization",
    "svd_smoothing",
    "estimator_calibration",
)
SOURCE_PREFIX = "source"  # where repository files are copied in the site when repo_url is unset

# MathJax 3 for the arithmatex formulas of the Markdown pages (pymdownx.arithmatex, generic mode).
# Notebook pages carry nbconvert's own MathJax (2.7), loaded earlier in the page: there, this
# script does nothing, so the two never meet.
MATHJAX_JS = """\
(function () {
  if (window.MathJax || document.querySelector(".jp-Notebook")) return;
  window.MathJax = {
    tex: {inlineMath: [["\\\\(", "\\\\)"]], displayMath: [["\\\\[", "\\\\]"]],
          processEscapes: true, processEnvironments: true},
    options: {ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex"}
  };
  var s = document.createElement("script");
  s.src = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js";
  s.async = true;
  document.head.appendChild(s);
})();
"""

_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+)(?:.+?)\1")
_LINK = re.compile(r"(!?\[[^\]]*\]\()(<[^>]*>|[^)\s]+)(\s+\"[^\"]*\")?\)")
_REF_DEF = re.compile(r"^(\s{0,3}\[[^\]]+\]:\s*)(\S+)(.*)$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# a Sphinx role as mkdocstrings renders it from a numpy docstring: ":class:<code>~htsr.x.Y</code>"
_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj|const):<code>(~?)([A-Za-z_][\w.]*)(\(\))?</code>")


def _repo_root(config) -> str:
    return os.path.dirname(os.path.abspath(config.config_file_path))


def _notebooks(config) -> list[str]:
    """Repository-relative paths of the notebooks that exist now, in nav order."""
    folder = os.path.join(_repo_root(config), NOTEBOOK_DIR)
    if not os.path.isdir(folder):
        return []
    stems = sorted(f[:-6] for f in os.listdir(folder) if f.endswith(".ipynb") and not f.startswith("."))
    rank = {s: k for k, s in enumerate(NOTEBOOK_ORDER)}
    stems.sort(key=lambda s: (rank.get(s, len(rank)), s))
    return [f"{NOTEBOOK_DIR}/{s}.ipynb" for s in stems]


def _notebook_title(path: str) -> str:
    """The notebook's first level-1 heading, else its file name."""
    stem = os.path.basename(path)[:-6]
    try:
        with open(path, encoding="utf-8") as fh:
            cells = json.load(fh).get("cells", [])
    except (OSError, ValueError):
        return stem
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            continue
        src = cell.get("source", "")
        for line in ("".join(src) if isinstance(src, list) else src).splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return stem


# ------------------------------------------------------------------ nav


def on_config(config, **kwargs):
    """Fill the ``Notebooks`` nav section with the notebooks that exist."""
    root = _repo_root(config)
    entries = [{_notebook_title(os.path.join(root, p)): p} for p in _notebooks(config)]
    nav = config.nav or []
    for k, item in enumerate(nav):
        if isinstance(item, dict) and NOTEBOOK_SECTION in item:
            if entries:
                nav[k] = {NOTEBOOK_SECTION: entries}
            else:
                del nav[k]
            break
    return config


# ------------------------------------------------------------------ files


class _RepoFile(File):
    """A repository file copied into the site as it is (never rendered, even a .md)."""

    def is_documentation_page(self) -> bool:
        return False

    def is_static_page(self) -> bool:
        return False


@event_priority(100)  # before mkdocs-jupyter wraps the notebooks as pages
def on_files(files, config, **kwargs):
    root = _repo_root(config)
    if files.get_file_from_path("javascripts/mathjax.js") is None:
        files.append(File.generated(config, "javascripts/mathjax.js", content=MATHJAX_JS))
    for path in _notebooks(config):
        if files.get_file_from_path(path) is None:
            files.append(File(path, root, config.site_dir, config.use_directory_urls))
    if not config.repo_url:
        for rel in sorted(_outward_targets(files, config)):
            if files.get_file_from_path(rel) is None and os.path.isfile(os.path.join(root, rel)):
                files.append(_RepoFile(rel, root, config.site_dir, config.use_directory_urls,
                                       dest_uri=f"{SOURCE_PREFIX}/{rel}"))
    return files


# ------------------------------------------------------------------ Sphinx roles in docstrings


def _lazy_names(config) -> dict:
    """htsr's top-level lazy names (``_LAZY`` in htsr/__init__.py, read without importing htsr)."""
    import ast

    path = os.path.join(_repo_root(config), "htsr", "__init__.py")
    try:
        tree = ast.parse(open(path, encoding="utf-8").read())
    except (OSError, SyntaxError):
        return {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_LAZY" for t in node.targets):
            try:
                return {f"htsr.{k}": f"{v}.{k}" for k, v in ast.literal_eval(node.value).items()}
            except ValueError:
                return {}
    return {}


_HREF = re.compile(r'(href|src)="([^"#]*)(#[^"]*)?"')


def _notebook_links(html, page, config, files):
    """Relative links in a notebook's Markdown cells are relative to notebooks/ in the
    repository: point those to docs/ pages and other notebooks at their pages on the site
    (the rest at the repository when repo_url is set)."""
    root = _repo_root(config)
    docs_dir = os.path.abspath(config.docs_dir)
    here = os.path.join(root, os.path.dirname(page.file.src_uri))
    branch = config.extra.get("repo_branch", "main")

    def fix(m):
        attr, path, frag = m.group(1), m.group(2), m.group(3) or ""
        if not path or path.startswith("/") or _SCHEME.match(path):
            return m.group(0)
        target = os.path.normpath(os.path.join(here, path))
        if target.startswith(docs_dir + os.sep):
            rel = os.path.relpath(target, docs_dir).replace(os.sep, "/")
        elif target.startswith(root + os.sep):
            rel = os.path.relpath(target, root).replace(os.sep, "/")
        else:
            return m.group(0)
        f = files.get_file_from_path(rel)
        if f is not None:
            return f'{attr}="{f.url_relative_to(page.file)}{frag}"'
        if config.repo_url and os.path.exists(target) and not target.startswith(docs_dir + os.sep):
            return f'{attr}="{config.repo_url.rstrip("/")}/blob/{branch}/{rel}{frag}"'
        return m.group(0)

    return _HREF.sub(fix, html)


def on_page_content(html, page, config, files, **kwargs):
    """Notebook links (see :func:`_notebook_links`); then the Sphinx roles of the docstrings
    (``:class:`~htsr.errors.DataError```) as optional cross-references: a link where the
    object is documented on the site, plain code otherwise (mkdocs-autorefs resolves them
    after every page is rendered)."""
    if page.file.src_uri.endswith(".ipynb"):
        html = _notebook_links(html, page, config, files)
    if ":<code>" not in html:
        return html
    lazy = _lazy_names(config)

    def ref(m):
        tilde, ident, call = m.group(1), m.group(2), m.group(3) or ""
        shown = ident.rsplit(".", 1)[-1] if tilde else ident
        target = lazy.get(ident, ident)
        return f'<autoref identifier="{target}" optional><code>{shown}{call}</code></autoref>'

    return _ROLE.sub(ref, html)


# ------------------------------------------------------------------ links


def _split_target(target: str) -> tuple[str, str]:
    path, sep, frag = target.partition("#")
    return path, sep + frag


def _outside(target: str, page_src: str, docs_dir: str, root: str) -> str | None:
    """The repository-relative path of a link target that leaves docs_dir, else None."""
    if target.startswith("<") and target.endswith(">"):
        target = target[1:-1]
    if not target or target.startswith(("#", "/")) or _SCHEME.match(target):
        return None
    path, _ = _split_target(target)
    if not path:
        return None
    absolute = os.path.normpath(os.path.join(docs_dir, os.path.dirname(page_src), path))
    if absolute == docs_dir or absolute.startswith(docs_dir + os.sep):
        return None
    if not (absolute == root or absolute.startswith(root + os.sep)):
        return None
    return os.path.relpath(absolute, root).replace(os.sep, "/")


def _map_prose(markdown: str, fn) -> str:
    """Apply ``fn`` to every line outside fenced and indented code blocks."""
    out, fence = [], None
    for line in markdown.splitlines(keepends=True):
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m.group(2)[0] * len(m.group(2))
            out.append(line)
            continue
        if fence is not None:
            if line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
                fence = None
            out.append(line)
            continue
        if line.startswith(("    ", "\t")) and out and out[-1].strip() == "":
            out.append(line)  # indented code block
            continue
        out.append(fn(line))
    return "".join(out)


def _links(line: str):
    """(start, end, target) of each link target on a line, outside inline code spans.

    Inline code is masked (same length) before matching, so a link whose text is code
    (``[`benchmarks/x.py`](../benchmarks/x.py)``) is found and a link inside code is not.
    """
    masked = _INLINE_CODE.sub(lambda c: c.group(1) + "x" * (len(c.group(0)) - 2 * len(c.group(1))) + c.group(1),
                              line)
    found = [(m.start(2), m.end(2)) for m in _LINK.finditer(masked)]
    m = _REF_DEF.match(masked)
    if m:
        found.append((m.start(2), m.end(2)))
    return [(a, b, line[a:b]) for a, b in found]


def _outward_targets(files, config) -> set[str]:
    docs_dir = os.path.abspath(config.docs_dir)
    root = _repo_root(config)
    found: set[str] = set()
    for f in files.documentation_pages():
        if not f.abs_src_path or not f.abs_src_path.endswith(".md"):
            continue
        with open(f.abs_src_path, encoding="utf-8") as fh:
            text = fh.read()

        def collect(line, f=f):
            for _, _, target in _links(line):
                rel = _outside(target, f.src_uri, docs_dir, root)
                if rel:
                    found.add(rel)
            return line

        _map_prose(text, collect)
    for path in _notebooks(config):  # links in notebooks are relative to notebooks/
        try:
            with open(os.path.join(root, path), encoding="utf-8") as fh:
                cells = json.load(fh).get("cells", [])
        except (OSError, ValueError):
            continue
        for cell in cells:
            if cell.get("cell_type") != "markdown":
                continue
            src = cell.get("source", "")
            for line in ("".join(src) if isinstance(src, list) else src).splitlines():
                for _, _, target in _links(line):
                    t = target.strip("<>").partition("#")[0]
                    if not t or t.startswith("/") or _SCHEME.match(t):
                        continue
                    absolute = os.path.normpath(os.path.join(root, NOTEBOOK_DIR, t))
                    if absolute.startswith(root + os.sep) and not absolute.startswith(docs_dir + os.sep):
                        found.add(os.path.relpath(absolute, root).replace(os.sep, "/"))
    return found


def on_page_markdown(markdown, page, config, files, **kwargs):
    """Rewrite links that leave docs/ (see the module docstring)."""
    if not page.file.src_uri.endswith(".md"):
        return markdown  # a notebook's "Markdown" is its JSON, replaced when mkdocs-jupyter renders it
    docs_dir = os.path.abspath(config.docs_dir)
    root = _repo_root(config)
    page_dir = posixpath.dirname(page.file.src_uri)
    branch = config.extra.get("repo_branch", "main")

    def new_target(target: str) -> str | None:
        rel = _outside(target, page.file.src_uri, docs_dir, root)
        if rel is None or not os.path.exists(os.path.join(root, rel)):
            return None  # inside docs/, external, or broken: MkDocs judges it
        _, frag = _split_target(target.strip("<>"))
        if files.get_file_from_path(rel) is not None:  # a notebook page, or a copied file
            return posixpath.relpath(rel, page_dir or ".") + frag
        if config.repo_url:
            kind = "tree" if os.path.isdir(os.path.join(root, rel)) else "blob"
            return f"{config.repo_url.rstrip('/')}/{kind}/{branch}/{rel}{frag}"
        return None

    def rewrite(line: str) -> str:
        for a, b, target in reversed(_links(line)):
            t = new_target(target)
            if t is not None:
                line = line[:a] + t + line[b:]
        return line

    return _map_prose(markdown, rewrite)
