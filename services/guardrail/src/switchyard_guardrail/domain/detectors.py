"""Built-in guardrails. Patterns run on RE2 (linear time, so a crafted input cannot stall a check).

- ``secret_detection``: cloud keys, API tokens and private keys → masked.
- ``pii_masking``: e-mail addresses, phone numbers, US SSNs, payment card numbers (Luhn-checked) → masked.
- ``prompt_injection``: well-known jailbreak phrasings → blocked.

A scan is linear in the text: one RE2 ``Set`` pass says which rules match anywhere, only those
rules are run to find their spans, every span is taken on the original text (UTF-8, encoded
once), overlapping spans merge into one redaction and the output is built once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import re2

from switchyard_guardrail.domain.json_values import Document

ALLOW, MASK, BLOCK = "allow", "mask", "block"


class ScanTimeout(Exception):
    """The scan's deadline passed before it finished."""


@dataclass(frozen=True)
class Rule:
    category: str
    pattern: re2._Regexp
    action: str
    # Longest text, in bytes, that a real match shows before it matches at all ("sk-" and 19
    # characters is not a key yet; an RFC 5321 e-mail has at most 64 bytes before the "@" and a
    # 63-byte label after it). A stream holds back this much of its unchecked tail, so no match
    # can start in text already sent; a match that already matches and keeps growing is held
    # whole.
    lead: int
    check: str = ""  # extra validation of a match (e.g. "luhn")
    # The opening marker of a rule that only matches once its closing marker arrives: a stream
    # holds text back from an opener that is not closed yet.
    opener: re2._Regexp | None = None


def _c(p: str) -> re2._Regexp:
    return re2.compile(p)


GUARDRAILS: dict[str, list[Rule]] = {
    "secret_detection": [
        Rule("aws_access_key", _c(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), MASK, lead=20),
        Rule(
            "private_key",
            _c(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
            MASK,
            lead=64,
            opener=_c(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
        ),
        Rule("github_token", _c(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"), MASK, lead=40),
        Rule("openai_key", _c(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,}\b"), MASK, lead=32),
        Rule("slack_token", _c(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"), MASK, lead=16),
        Rule("google_api_key", _c(r"\bAIza[0-9A-Za-z_\-]{35}\b"), MASK, lead=39),
    ],
    "pii_masking": [
        Rule("email", _c(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b"), MASK, lead=160),
        Rule("us_ssn", _c(r"\b\d{3}-\d{2}-\d{4}\b"), MASK, lead=11),
        # A card only counts once the Luhn check passes, so its whole length is its lead.
        Rule("credit_card", _c(r"\b(?:\d[ \-]?){13,19}\b"), MASK, lead=40, check="luhn"),
        Rule("phone", _c(r"(?:\+\d{1,3}[ \-.]?)?\(?\d{3}\)?[ \-.]\d{3}[ \-.]\d{4}\b"), MASK, lead=24),
    ],
    "prompt_injection": [
        Rule(
            "jailbreak",
            _c(r"(?i)ignore (?:all |any )?(?:previous|prior|above) (?:instructions|prompts|rules)"),
            BLOCK,
            lead=64,
        ),
        Rule("jailbreak", _c(r"(?i)\b(?:DAN|do anything now) mode\b"), BLOCK, lead=64),
        Rule("jailbreak", _c(r"(?i)reveal (?:your|the) (?:system prompt|hidden instructions)"), BLOCK, lead=64),
    ],
}
ALIASES = {
    "secrets": "secret_detection",
    "detect_secrets": "secret_detection",
    "hide_secrets": "secret_detection",
    "pii": "pii_masking",
    "presidio": "pii_masking",
    "jailbreak": "prompt_injection",
    "lakera_prompt_injection": "prompt_injection",
}


def canonical(name: str) -> str | None:
    name = ALIASES.get(name, name)
    return name if name in GUARDRAILS else None


# Every rule (and every opener) in one RE2 Set: one pass over the text tells which of them can
# match, so a clean text costs one scan whatever the number of rules (1.6 µs instead of 23 µs
# for a short message, 1.5 ms instead of 15 ms per MB of text, measured).
_RULES: list[tuple[str, Rule]] = [(name, rule) for name, rules in GUARDRAILS.items() for rule in rules]
_INDEX = {id(rule): i for i, (_, rule) in enumerate(_RULES)}
_OPENER_BASE = len(_RULES)


def _build_set() -> re2.Set:
    s = re2.Set.SearchSet()
    for _, rule in _RULES:
        s.Add(rule.pattern.pattern)
    for _, rule in _RULES:
        if rule.opener is not None:
            s.Add(rule.opener.pattern)
    s.Compile()
    return s


_SET = _build_set()
_OPENER_INDEX = {id(rule): _OPENER_BASE + n for n, rule in enumerate(r for _, r in _RULES if r.opener is not None)}


def _luhn(digits_text: bytes) -> bool:
    digits = [c - 48 for c in digits_text if 48 <= c <= 57]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


Finding = tuple[str, str, str]  # (guardrail, category, action)


@dataclass
class Result:
    decision: str = ALLOW
    text: str = ""
    findings: list[Finding] = field(default_factory=list)


# (start, end, rank): byte offsets of a match and the position of its rule in the request's
# order (the lowest rank names a merged span). Plain tuples: a scan may hold a million of them.
Span = tuple[int, int, int]


class _Clock:
    """Checks the deadline between RE2 calls (each one is linear, and bounded by the size cap)."""

    __slots__ = ("deadline",)

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise ScanTimeout


def rules_of(guardrails: Iterable[str]) -> list[tuple[str, Rule]]:
    """The rules of canonical guardrail names, in the request's order (that order names a
    redaction when spans of two rules overlap)."""
    return [(name, rule) for name in guardrails for rule in GUARDRAILS[name]]


def lead_of(rules: Sequence[tuple[str, Rule]]) -> int:
    """How much of a stream's unchecked tail these rules need held back (see ``Rule.lead``)."""
    return max((rule.lead for _, rule in rules), default=0)


@dataclass
class _Found:
    spans: list[Span]  # mask spans, sorted by start
    blocked: list[int]  # ranks of the block rules that matched
    opened: Span | None  # the first opener with no closing match, to the end of the text


def _find(data: bytes, rules: Sequence[tuple[str, Rule]], clock: _Clock, *, openers: bool = False) -> _Found:
    clock.check()  # a check that waited for a worker past its deadline does no work
    hits = set(_SET.Match(data) or ())
    found = _Found([], [], None)
    clock.check()
    for rank, (_, rule) in enumerate(rules):
        spans: list[Span] = []
        if _INDEX[id(rule)] in hits:
            if rule.action == BLOCK:
                found.blocked.append(rank)
                continue
            luhn = rule.check == "luhn"
            for n, m in enumerate(rule.pattern.finditer(data)):
                if n & 0xFF == 0xFF:
                    clock.check()
                start, end = m.span()
                if luhn and not _luhn(data[start:end]):
                    continue
                spans.append((start, end, rank))
            clock.check()
            found.spans.extend(spans)
        if openers and rule.opener is not None and found.opened is None and _OPENER_INDEX[id(rule)] in hits:
            found.opened = _unclosed(data, rule.opener, spans, rank)
    found.spans.sort()
    return found


def _unclosed(data: bytes, opener: re2._Regexp, closed: list[Span], rank: int) -> Span | None:
    """The first opener outside every closed match (``closed`` are the rule's own matches, in
    order and disjoint, so one walk over both lists finds it)."""
    j = 0
    for m in opener.finditer(data):
        o = m.start()
        while j < len(closed) and closed[j][1] <= o:
            j += 1
        if j == len(closed) or o < closed[j][0]:
            return (o, len(data), rank)
    return None


def _merge(spans: Iterable[Span]) -> list[Span]:
    """Overlapping spans (sorted by start) become one: a character that any rule matched is
    masked, under the name of the first of those rules in the request's order."""
    out: list[Span] = []
    for span in spans:
        if out and span[0] < out[-1][1]:
            start, end, rank = out[-1]
            out[-1] = (start, max(end, span[1]), min(rank, span[2]))
        else:
            out.append(span)
    return out


def _escaped(data: bytes, at: int, floor: int = 0) -> bool:
    """Whether the byte at ``at`` follows an odd run of backslashes (is escaped in JSON text)."""
    n = 0
    while at - n - 1 >= floor and data[at - n - 1] == 0x5C:
        n += 1
    return n % 2 == 1


def _masked(
    data: bytes, clusters: Sequence[Span], rules: Sequence[tuple[str, Rule]], end: int, *, raw_json: bool = False
) -> str:
    """The text up to ``end`` with each cluster replaced. In raw JSON text (tool-call arguments
    that are not a whole document) a redaction that starts inside an escape takes its backslash
    too: "a\\nbob@x.com" must not become the invalid escape "a\\[REDACTED_EMAIL]"."""
    markers = [b"[REDACTED_" + rule.category.upper().encode() + b"]" for _, rule in rules]
    pieces: list[bytes] = []
    pos = 0
    for start, stop, rank in clusters:
        if raw_json and start > pos and _escaped(data, start, pos):
            start -= 1
        pieces.append(data[pos:start])
        pieces.append(markers[rank])
        pos = stop
    pieces.append(data[pos:end])
    return b"".join(pieces).decode()


def _findings(rules: Sequence[tuple[str, Rule]], clusters: Iterable[Span], blocked: Iterable[int]) -> list[Finding]:
    ranks = {c[2] for c in clusters} | set(blocked)
    return [(name, rule.category, rule.action) for rank, (name, rule) in enumerate(rules) if rank in ranks]


def scan(text: str, guardrails: Sequence[str], *, deadline: float = float("inf"), raw_json: bool = False) -> Result:
    """Apply guardrails (canonical names) to one text: masks replace matches, any block wins.
    Raises ScanTimeout once ``deadline`` (``time.monotonic()``) has passed. ``raw_json``: the
    text is JSON that could not be parsed (see ``_masked``)."""
    rules = rules_of(guardrails)
    data = text.encode()
    found = _find(data, rules, _Clock(deadline))
    if not found.spans and not found.blocked:
        return Result(text=text)
    clusters = _merge(found.spans)
    return Result(
        decision=BLOCK if found.blocked else MASK,
        text=_masked(data, clusters, rules, len(data), raw_json=raw_json) if clusters else text,
        findings=_findings(rules, clusters, found.blocked),
    )


class Batch:
    """The texts of one check, scanned under one deadline: the strongest decision wins and every
    finding is kept."""

    def __init__(self, guardrails: Sequence[str], deadline: float = float("inf")) -> None:
        self.guardrails = guardrails
        self.deadline = deadline
        self.decision = ALLOW
        self.findings: list[Finding] = []

    def _add(self, res: Result) -> None:
        self.findings.extend(res.findings)
        if res.decision == BLOCK or (res.decision == MASK and self.decision == ALLOW):
            self.decision = res.decision

    def text(self, text: str) -> str:
        """``text`` as it may pass (masked when a rule masks)."""
        res = scan(text, self.guardrails, deadline=self.deadline)
        self._add(res)
        return res.text

    def json(self, text: str) -> str:
        """A JSON document as it may pass: its string values are checked (see ``json_values``);
        text that is not JSON is checked as plain text."""
        doc = Document.parse(text)
        if doc is None:
            res = scan(text, self.guardrails, deadline=self.deadline, raw_json=True)
            self._add(res)
            return res.text
        results = [scan(s, self.guardrails, deadline=self.deadline) for s in doc.strings()]
        for res in results:
            self._add(res)
        if not any(res.decision == MASK for res in results):
            return text
        return doc.replace([res.text for res in results])


@dataclass(frozen=True, slots=True)
class Piece:
    """The verdict on one stream segment: ``result.text`` is the checked (masked) text to send
    now, standing for the first ``consumed`` characters of the segment; the rest is held back."""

    result: Result
    consumed: int


def check_stream_segment(
    text: str,
    guardrails: Sequence[str],
    *,
    final: bool,
    max_held: int,
    deadline: float = float("inf"),
    raw_json: bool = False,
) -> Piece:
    """Check the unsent text of one stream segment (a choice's content or a tool call's
    arguments): what was held back last time followed by what arrived since.

    All of it is sent when ``final``. Otherwise the last ``lead`` bytes stay back (no match can
    start in sent text, see ``Rule.lead``), and so does any match that reaches into that tail (it
    may still grow) and everything from an opener not yet closed. When that would hold back more
    than ``max_held`` bytes, the held match is masked up to the normal cut instead: the held text
    stays bounded, and a match that long is masked, never sent in the clear. The decision is
    BLOCK as soon as a block rule matches anywhere in the text. ``raw_json``: the segment is
    JSON as it streams (tool-call arguments): the cut never splits an escape sequence either."""
    rules = rules_of(guardrails)
    data = text.encode()
    found = _find(data, rules, _Clock(deadline), openers=not final)
    if found.blocked:
        return Piece(Result(BLOCK, "", _findings(rules, (), found.blocked)), 0)
    clusters = _merge(found.spans)
    size = cut = len(data)
    if not final:
        cut = max(0, size - lead_of(rules))
        held = _merge(sorted([*clusters, *([found.opened] if found.opened else [])]))
        straddling = next((h for h in held if h[0] < cut < h[1]), None)
        if straddling is not None and size - straddling[0] <= max_held:
            cut = straddling[0]
            straddling = None
        while 0 < cut < size and (data[cut] & 0xC0 == 0x80 or (raw_json and _escaped(data, cut))):
            cut -= 1  # never cut inside a UTF-8 sequence (or a JSON escape)
        clusters = [c for c in clusters if c[1] <= (straddling[0] if straddling else cut)]
        if straddling is not None:
            clusters.append((straddling[0], cut, straddling[2]))
    emit = _masked(data, clusters, rules, cut, raw_json=raw_json) if clusters else data[:cut].decode()
    consumed = len(text) if cut == size else len(data[:cut].decode())
    return Piece(Result(MASK if clusters else ALLOW, emit, _findings(rules, clusters, ())), consumed)
