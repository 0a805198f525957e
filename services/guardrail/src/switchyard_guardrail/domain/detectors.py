"""Built-in guardrails. Patterns run on RE2 (linear time, so a crafted input cannot stall a check).

- ``secret_detection``: cloud keys, API tokens and private keys → masked.
- ``pii_masking``: e-mail addresses, phone numbers, US SSNs, payment card numbers (Luhn-checked) → masked.
- ``prompt_injection``: well-known jailbreak phrasings → blocked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import re2

ALLOW, MASK, BLOCK = "allow", "mask", "block"


@dataclass(frozen=True)
class Rule:
    category: str
    pattern: re2._Regexp
    action: str
    check: str = ""  # extra validation of a match (e.g. "luhn")


def _c(p: str) -> re2._Regexp:
    return re2.compile(p)


GUARDRAILS: dict[str, list[Rule]] = {
    "secret_detection": [
        Rule("aws_access_key", _c(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), MASK),
        Rule("private_key", _c(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"), MASK),
        Rule("github_token", _c(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"), MASK),
        Rule("openai_key", _c(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,}\b"), MASK),
        Rule("slack_token", _c(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"), MASK),
        Rule("google_api_key", _c(r"\bAIza[0-9A-Za-z_\-]{35}\b"), MASK),
    ],
    "pii_masking": [
        Rule("email", _c(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b"), MASK),
        Rule("us_ssn", _c(r"\b\d{3}-\d{2}-\d{4}\b"), MASK),
        Rule("credit_card", _c(r"\b(?:\d[ \-]?){13,19}\b"), MASK, check="luhn"),
        Rule("phone", _c(r"(?:\+\d{1,3}[ \-.]?)?\(?\d{3}\)?[ \-.]\d{3}[ \-.]\d{4}\b"), MASK),
    ],
    "prompt_injection": [
        Rule(
            "jailbreak", _c(r"(?i)ignore (?:all |any )?(?:previous|prior|above) (?:instructions|prompts|rules)"), BLOCK
        ),
        Rule("jailbreak", _c(r"(?i)\b(?:DAN|do anything now) mode\b"), BLOCK),
        Rule("jailbreak", _c(r"(?i)reveal (?:your|the) (?:system prompt|hidden instructions)"), BLOCK),
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


def _luhn(text: str) -> bool:
    digits = [int(c) for c in text if c.isdigit()]
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


@dataclass
class Result:
    decision: str = ALLOW
    text: str = ""
    findings: list[tuple[str, str, str]] = field(default_factory=list)  # (guardrail, category, action)


def scan(text: str, guardrails: list[str]) -> Result:
    """Apply guardrails to one text: masks replace matches, any block wins."""
    result = Result(text=text)
    for name in guardrails:
        for rule in GUARDRAILS[name]:
            spans = []
            for m in rule.pattern.finditer(result.text):
                if rule.check == "luhn" and not _luhn(m.group(0)):
                    continue
                spans.append((m.start(), m.end()))
            if not spans:
                continue
            result.findings.append((name, rule.category, rule.action))
            if rule.action == BLOCK:
                result.decision = BLOCK
            elif rule.action == MASK:
                if result.decision != BLOCK:
                    result.decision = MASK
                masked = result.text
                for start, end in reversed(spans):
                    masked = masked[:start] + f"[REDACTED_{rule.category.upper()}]" + masked[end:]
                result.text = masked
    return result
