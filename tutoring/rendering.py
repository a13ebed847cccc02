"""The one door from untrusted text to HTML.

Everything a person did not write into a template — LLM output, lesson material a teacher
typed, a student's message — becomes HTML only through `render_markdown` or `render_plain`.
This is the only module allowed to call `mark_safe` on such content, so a review of this
file is a review of every place where untrusted text reaches the page.

The pipeline is Markdown first, sanitizer second: markdown-it runs with raw HTML disabled
(so `<script>` in the source is escaped text, never a tag) and its output still goes through
nh3 with a short allow-list. The second pass is deliberate: it keeps the page safe even if
a Markdown plugin or a future option emits something we did not expect.

Math is recognised on the server and emitted as escaped TeX inside
`<span class="math inline">\\(…\\)</span>` or `<… class="math display">\\[…\\]</…>`;
KaTeX's auto-render (static/js/lantern.js) typesets it in the browser.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from mdit_py_plugins.dollarmath import dollarmath_plugin

if TYPE_CHECKING:
    from markdown_it.renderer import RendererHTML
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
        "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
        "table", "thead", "tbody", "tr", "th", "td", "a", "span", "div",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    # Markdown emits `start` when a numbered list resumes after a code block or paragraph,
    # which LLM step-by-step answers do all the time; it is only ever a number.
    "ol": {"start"},
}
# `class` is governed only here (nh3 refuses it in ALLOWED_ATTRIBUTES as well): the math
# markers are the only classes untrusted content may carry.
MATH_CLASSES: frozenset[str] = frozenset({"math", "inline", "display"})
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"

_INLINE_MATH = '<span class="math inline">\\({}\\)</span>'
# A span, not a div: display math written inside a paragraph must stay inside the <p>,
# and CSS gives `.math.display` block layout.
_INLINE_DISPLAY_MATH = '<span class="math display">\\[{}\\]</span>'
_BLOCK_DISPLAY_MATH = '<div class="math display">\\[{}\\]</div>\n'

_RenderRule = Callable[["RendererHTML", Sequence["Token"], int, "OptionsDict", "EnvType"], str]


def render_markdown(text: str) -> SafeString:
    """Render untrusted Markdown (with TeX math) to sanitized HTML.

    Guarantees: raw HTML in `text` comes out as visible, escaped text; the result contains
    only the tags in `ALLOWED_TAGS`, links only with http/https/mailto URLs and a forced
    `rel="noopener noreferrer nofollow"`, no style or event-handler attributes and no
    images. Math spans keep their TeX byte for byte (HTML-escaped). The output is not
    wrapped; the caller provides the container (add `.math-render` to have math typeset).
    """
    html = _MARKDOWN.render(text)
    return mark_safe(_sanitize(html))  # noqa: S308 - nh3 allow-list applied just above


def render_plain(text: str) -> SafeString:
    """Render untrusted plain text (a student's message): escape it, keep its line breaks.

    Shown exactly as typed: no Markdown, and no math even inside a `.math-render`
    container (a chat mixes student and tutor messages), so "$5 and $3" stays prose.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    html = "<br>\n".join(_isolate_math_delimiters(escape(line)) for line in lines)
    return mark_safe(html)  # noqa: S308 - every line escaped just above


def _sanitize(html: str) -> str:
    return _CLEANER.clean(html)


_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes=ALLOWED_ATTRIBUTES,
    allowed_classes={"span": set(MATH_CLASSES), "div": set(MATH_CLASSES)},
    url_schemes=set(URL_SCHEMES),
    # A relative or protocol-relative URL ("//host/…") has no scheme to check, and
    # generated text has no business linking into our own pages.
    url_relative="deny",
    link_rel=LINK_REL,
    strip_comments=True,
)


def _math_rule(tag: str, token_type: str) -> Callable[[StateInline, bool], bool]:
    r"""Inline rule for `\(…\)` (tag `\(`) or `\[…\]` (tag `\[`).

    Without it CommonMark reads `\(` as an escaped parenthesis and drops the backslash,
    so KaTeX would never see the delimiter. It runs before the `escape` rule.
    """
    closing = "\\)" if tag == "\\(" else "\\]"
    # Once a search for the closing delimiter fails, no later opener can succeed either;
    # remembering where it failed keeps "\\(\\(\\(…" linear instead of quadratic. Negative
    # keys cannot clash with markdown-it's own position keys in `state.cache`.
    no_closing_from = -1 if tag == "\\(" else -2

    def rule(state: StateInline, silent: bool) -> bool:
        start = state.pos
        if not state.src.startswith(tag, start):
            return False
        if start >= state.cache.get(no_closing_from, len(state.src) + 1):
            return False
        end = state.src.find(closing, start + 2)
        if end == -1:
            state.cache[no_closing_from] = start
            return False
        if not state.src[start + 2 : end].strip():
            return False
        if not silent:
            token = state.push(token_type, "math", 0)
            token.content = state.src[start + 2 : end]
            token.markup = tag
        state.pos = end + 2
        return True

    return rule


def _wrap(template: str) -> _RenderRule:
    def render(
        self: RendererHTML,
        tokens: Sequence[Token],
        idx: int,
        options: OptionsDict,
        env: EnvType,
    ) -> str:
        return template.format(escapeHtml(tokens[idx].content.strip()))

    return render


_DOLLAR = re.compile(r"\$")
_DOLLAR_OR_BACKSLASH = re.compile(r"[$\\]")


def _isolate_dollars(escaped_text: str) -> str:
    # KaTeX auto-render also looks for $…$ in the browser, but only within one run of
    # text. Prose dollars ("costs $5 and $3") are not math here, so each one is put in an
    # element of its own where auto-render can never pair it with another.
    return _DOLLAR.sub("<span>$</span>", escaped_text)


def _isolate_math_delimiters(escaped_text: str) -> str:
    # As above, and a lone backslash cannot start \( or \[ either.
    return _DOLLAR_OR_BACKSLASH.sub(lambda m: f"<span>{m.group()}</span>", escaped_text)


def _render_text(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return _isolate_dollars(escapeHtml(tokens[idx].content))


def _render_image_as_link(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # No <img>: remote images leak who is reading to a third party and can be anything.
    # The reader still gets the alt text and a link they may choose to follow.
    token = tokens[idx]
    src = str(token.attrs.get("src", ""))
    label = token.content or src
    return f'<a href="{escapeHtml(src)}">{_isolate_dollars(escapeHtml(label))}</a>'


def _build_markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    # Pandoc's rule for $…$: no space just inside the dollars and no digit right after the
    # closing one, so "$5 and $10" stays prose. No blank lines inside $$…$$, so a stray
    # "$$" cannot swallow the rest of the answer. No labels: they would emit ids and links.
    dollarmath_plugin(
        md,
        allow_labels=False,
        allow_space=False,
        allow_digits=False,
        allow_blank_lines=False,
        double_inline=True,
    )
    md.inline.ruler.before("escape", "math_paren", _math_rule("\\(", "math_inline"))
    md.inline.ruler.before("escape", "math_bracket", _math_rule("\\[", "math_inline_double"))
    md.add_render_rule("math_inline", _wrap(_INLINE_MATH))
    md.add_render_rule("math_inline_double", _wrap(_INLINE_DISPLAY_MATH))
    md.add_render_rule("math_block", _wrap(_BLOCK_DISPLAY_MATH))
    md.add_render_rule("text", _render_text)
    md.add_render_rule("image", _render_image_as_link)
    return md


_MARKDOWN = _build_markdown()
