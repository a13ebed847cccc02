"""The offline provider: a deterministic, clearly labelled explanation from the lesson itself.

It lets Lantern run with no API key and no network. It writes nothing of its own beyond
fixed headings and templates: every fact in its answer is quoted from the teacher's material,
worked examples or misconceptions (`CompletionRequest.grounding`), picked by how many terms
they share with the question. It never sees the answer key, so it cannot reveal it.

Relevance: text is split into terms — words (with a light plural folding) and numbers such
as `3/4` for alphabetic scripts, character bigrams for CJK text, which has no spaces — and a
passage scores the sum over the question's terms it contains of `log(1 + N / df)`, so terms
found everywhere in the lesson count little.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from llm.base import (
    Completion,
    CompletionRequest,
    Grounding,
    LLMPermanentError,
    ModerationResult,
)
from llm.tokens import count_message_tokens, count_tokens

__all__ = ["OFFLINE_MODEL", "OfflineProvider", "compose_explanation"]

OFFLINE_MODEL = "offline-v1"
# Token counts are estimates for budgets only; "offline" maps to the character estimate.
_TOKEN_MODEL = "offline"

_YOUNG_READERS = ("early", "elementary")
_MAX_PASSAGES = 3
_MAX_PASSAGES_YOUNG = 2
_MAX_SENTENCES_YOUNG = 2
# Words (alphabetic scripts) or characters (CJK) after which a young reader's sentence is cut.
_MAX_WORDS_YOUNG = 20
_MAX_CJK_CHARS_YOUNG = 30
# Paragraphs longer than this are scored sentence by sentence, so one relevant sentence is
# not buried in (or does not drag in) a wall of text.
_LONG_PARAGRAPH_CHARS = 600
_MAX_EXAMPLE_CHARS = 1200

_CJK_CHAR = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_CJK_RUN = re.compile(f"[{_CJK_CHAR}]+")
_LATIN_TERM = re.compile(rf"\d+(?:[./,]\d+)*|[^\W\d_{_CJK_CHAR}]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)|(?<=[。！？])")
_CLAUSE_BREAK = re.compile(r"[,;:—，；：、]")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_BLANK_LINE = re.compile(r"\n\s*\n")

_STOPWORDS = frozenset(
    """a about an and are as at be but by can could did do does for from has have how i if in
    into is it its me my no not of on or so than that the their them then there these this to
    was we what when where which who why will with would you your explain mean means please
    help tell show understand get don't doesn't""".split()
)

_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "label": (
            "*Offline tutor — this explanation was assembled from your lesson's own material, "
            "not written by an AI model.*"
        ),
        "from_lesson": "**From your lesson: {title}**",
        "no_match": (
            "Nothing in the lesson matched your question closely, so here is how the lesson starts."
        ),
        "no_material": "This lesson has no material to quote yet. Please ask your teacher.",
        "example": "**Worked example**",
        "exercise": "**Your exercise**",
        "your_answer": "**Your answer:** {answer}",
        "misconception": "**A common mistake to check:** {misconception}",
        "review_hint": (
            "Compare your answer with the lesson and the worked example above, step by step."
        ),
        "check": (
            "**Check your understanding:** Can you explain {concept} in your own words, and "
            "give an example of your own?"
        ),
        "check_young": "**Check your understanding:** Can you tell what {concept} means?",
        "check_review": (
            "**Check your understanding:** Which step of your answer would you change now, and why?"
        ),
        "main_idea": "the main idea of this lesson",
    },
    "zh": {
        "label": "*离线辅导——本解释取自课程材料，并非由 AI 模型生成。*",
        "from_lesson": "**课程材料：{title}**",
        "no_match": "课程中没有与你的问题直接对应的内容，下面是课程的开头。",
        "no_material": "这节课还没有可以引用的材料，请问问你的老师。",
        "example": "**例题**",
        "exercise": "**你的练习**",
        "your_answer": "**你的答案：** {answer}",
        "misconception": "**检查一个常见错误：** {misconception}",
        "review_hint": "请对照上面的课程内容和例题，一步一步检查你的答案。",
        "check": "**检查理解：** 你能用自己的话解释「{concept}」吗？再举一个你自己的例子。",
        "check_young": "**检查理解：** 你能说说「{concept}」是什么意思吗？",
        "check_review": "**检查理解：** 现在你会修改答案中的哪一步？为什么？",
        "main_idea": "这节课的主要内容",
    },
}


@dataclass(frozen=True)
class _Passage:
    position: int
    text: str


class OfflineProvider:
    """`Provider` that needs no network and no key; deterministic for equal requests.

    `complete` requires `request.grounding` and raises `LLMPermanentError("bad_request")`
    without it, since there would be nothing honest to say. Thread-safe: it holds no state.
    """

    name = "offline"

    def complete(
        self,
        request: CompletionRequest,
        *,
        on_delta: Callable[[str], None] | None = None,
    ) -> Completion:
        """Assemble the explanation, streaming it line by line to `on_delta` when given."""
        started = time.perf_counter()
        if request.grounding is None:
            raise LLMPermanentError(
                "bad_request",
                "The offline tutor could not find this lesson's material.",
                detail="OfflineProvider.complete called without CompletionRequest.grounding",
            )
        content = compose_explanation(request.grounding)
        if on_delta is not None:
            for line in content.splitlines(keepends=True):
                on_delta(line)
        return Completion(
            content=content,
            model=OFFLINE_MODEL,
            prompt_tokens=count_message_tokens(request.messages, _TOKEN_MODEL),
            completion_tokens=count_tokens(content, _TOKEN_MODEL),
            cached_tokens=0,
            request_id=None,
            finish_reason="stop",
            latency_ms=int((time.perf_counter() - started) * 1000),
        )

    def moderate(self, text: str) -> ModerationResult:
        """Never flags anything yet.

        Placeholder until a local classifier is added: with the offline provider, input
        moderation is effectively off, and nothing is sent anywhere to be moderated.
        """
        return ModerationResult(flagged=False, categories={})


def compose_explanation(grounding: Grounding) -> str:
    """The Markdown explanation for `grounding`; pure and deterministic.

    Layout: the label; for an answer review the exercise, the answer and a matching
    misconception; the most relevant passages of the material; the closest worked example;
    a check-for-understanding question.
    """
    texts = _TEXTS["zh"] if grounding.language.strip().lower().startswith("zh") else _TEXTS["en"]
    young = grounding.reading_level in _YOUNG_READERS
    # An answer to review is what makes this "explain my answer" rather than a question.
    is_review = bool(grounding.student_answer.strip())
    query = " ".join((grounding.question, grounding.exercise_prompt, grounding.student_answer))
    query_terms = _terms(query)
    blocks = [texts["label"]]

    if grounding.exercise_prompt.strip():
        blocks += [texts["exercise"], _quote(grounding.exercise_prompt.strip())]
    if is_review:
        blocks.append(texts["your_answer"].format(answer=grounding.student_answer.strip()))
        misconceptions = [
            _Passage(index, _BULLET.sub("", line).strip())
            for index, line in enumerate(grounding.misconceptions.splitlines())
            if _BULLET.sub("", line).strip()
        ]
        matched = _best(misconceptions, query_terms, 1)
        if matched:
            blocks.append(texts["misconception"].format(misconception=matched[0].text))
            # The mistake's own words ("adding denominators") find the passage that explains
            # the right way better than the exercise's numbers do.
            query_terms |= _terms(matched[0].text)

    blocks.append(texts["from_lesson"].format(title=grounding.lesson_title))
    limit = _MAX_PASSAGES_YOUNG if young else _MAX_PASSAGES
    passages = _split_passages(grounding.material)
    chosen = _best(passages, query_terms, limit)
    if not passages:
        blocks.append(texts["no_material"])
    elif not chosen:
        blocks.append(texts["no_match"])
        chosen = passages[:1]
    for passage in chosen:
        blocks.append(_quote(_simplify(passage.text, query_terms) if young else passage.text))

    examples = [
        _Passage(index, chunk.strip())
        for index, chunk in enumerate(_BLANK_LINE.split(grounding.worked_examples))
        if chunk.strip()
    ]
    best_examples = _best(examples, query_terms, 1) or examples[:1]
    if best_examples:
        blocks += [texts["example"], _clip(best_examples[0].text, _MAX_EXAMPLE_CHARS)]

    if is_review:
        blocks += [texts["review_hint"], texts["check_review"]]
    else:
        concept = _key_concept(grounding.key_concepts, query_terms) or texts["main_idea"]
        blocks.append(texts["check_young" if young else "check"].format(concept=concept))
    return "\n\n".join(blocks) + "\n"


def _terms(text: str) -> set[str]:
    """Matching terms: folded words and numbers, plus bigrams of every CJK run."""
    lowered = text.casefold()
    terms = set()
    for word in _LATIN_TERM.findall(lowered):
        if word in _STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        # "fractions" and "fraction" should match; a crude fold is enough for ranking.
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        terms.add(word)
    for run in _CJK_RUN.findall(lowered):
        if len(run) == 1:
            terms.add(run)
        terms.update(run[i : i + 2] for i in range(len(run) - 1))
    return terms


def _best(passages: Sequence[_Passage], query_terms: set[str], limit: int) -> list[_Passage]:
    """Up to `limit` passages sharing terms with the query, highest score first chosen, then
    returned in their original order so the lesson still reads in sequence."""
    if not passages or not query_terms:
        return []
    passage_terms = [_terms(passage.text) for passage in passages]
    document_frequency: dict[str, int] = {}
    for terms in passage_terms:
        for term in terms & query_terms:
            document_frequency[term] = document_frequency.get(term, 0) + 1
    count = len(passages)
    scored = []
    for passage, terms in zip(passages, passage_terms, strict=True):
        score = sum(math.log(1 + count / document_frequency[t]) for t in terms & query_terms)
        if score > 0:
            scored.append((-score, passage.position, passage))
    scored.sort(key=lambda item: (item[0], item[1]))
    return sorted((item[2] for item in scored[:limit]), key=lambda passage: passage.position)


def _split_passages(material: str) -> list[_Passage]:
    """Paragraphs of the material (long ones as sentences), without bare headings."""
    pieces: list[str] = []
    for paragraph in _BLANK_LINE.split(material):
        lines = [line for line in paragraph.strip().splitlines() if line.strip()]
        # A Markdown heading says what follows but is no explanation on its own.
        body = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
        if not body:
            continue
        if len(body) > _LONG_PARAGRAPH_CHARS and not any(_is_block(line) for line in lines):
            pieces.extend(_sentences(body))
        else:
            pieces.append(body)
    return [_Passage(index, text) for index, text in enumerate(pieces)]


def _is_block(line: str) -> bool:
    """Lines of lists, tables, code and display math, which lose their meaning when split."""
    stripped = line.lstrip()
    return bool(_BULLET.match(line)) or stripped.startswith(("|", "```", "$$", ">"))


def _sentences(text: str) -> list[str]:
    return [sentence.strip() for sentence in _SENTENCE_END.split(text) if sentence.strip()]


def _simplify(text: str, query_terms: set[str]) -> str:
    """For young readers: the most relevant sentences of a passage, each kept short."""
    sentences = [_Passage(index, s) for index, s in enumerate(_sentences(text))]
    kept = _best(sentences, query_terms, _MAX_SENTENCES_YOUNG) or sentences[:1]
    shortened = [_shorten_sentence(sentence.text) for sentence in kept]
    # Chinese and Japanese put no space between sentences.
    return "".join(
        sentence if index == len(shortened) - 1 or _is_cjk(sentence) else f"{sentence} "
        for index, sentence in enumerate(shortened)
    )


def _is_cjk(text: str) -> bool:
    """Mostly CJK characters (a Chinese sentence may still hold `1/5 + 2/5`)."""
    letters = [char for char in text if char.isalnum()]
    cjk = sum(len(run) for run in _CJK_RUN.findall(text))
    return bool(letters) and cjk * 2 >= len(letters)


def _shorten_sentence(sentence: str) -> str:
    """Cut an overlong sentence at a clause break (else at the limit), marked with "…" so the
    reader sees that the quotation continues."""
    if _is_cjk(sentence):
        if len(sentence) <= _MAX_CJK_CHARS_YOUNG:
            return sentence
        head = sentence[:_MAX_CJK_CHARS_YOUNG]
    else:
        words = sentence.split()
        if len(words) <= _MAX_WORDS_YOUNG:
            return sentence
        head = " ".join(words[:_MAX_WORDS_YOUNG])
    breaks = [match.start() for match in _CLAUSE_BREAK.finditer(head)]
    if breaks and breaks[-1] >= len(head) // 3:
        head = head[: breaks[-1]]
    return head.rstrip() + "…"


def _key_concept(key_concepts: str, query_terms: set[str]) -> str:
    """The key concept closest to the question (the first one when none is), as a name."""
    items = [
        _Passage(index, _BULLET.sub("", item).strip())
        for index, item in enumerate(re.split(r"[\n;；、]|,\s|，", key_concepts))
        if _BULLET.sub("", item).strip()
    ]
    chosen = _best(items, query_terms, 1) or items[:1]
    if not chosen:
        return ""
    # "Fraction: a part of a whole" names the concept "Fraction".
    return re.split(r"\s*[:：]\s*|\s+[—–-]\s+", chosen[0].text, maxsplit=1)[0].strip()


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines())


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    boundary = max(cut.rfind("\n"), cut.rfind(". "), cut.rfind("。"))
    return (cut[: boundary + 1] if boundary > limit // 2 else cut).rstrip() + " …"
