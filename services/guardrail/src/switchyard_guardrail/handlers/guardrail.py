"""gRPC GuardrailService: checks of request messages and generated text."""

from __future__ import annotations

import grpc

from switchyard.guardrail.v1 import guardrail_pb2, guardrail_pb2_grpc
from switchyard.llm.v1 import chat_pb2
from switchyard_guardrail.domain.detectors import BLOCK, MASK, Result, canonical, scan

_DECISION = {
    "allow": guardrail_pb2.DECISION_ALLOW,
    MASK: guardrail_pb2.DECISION_MASK,
    BLOCK: guardrail_pb2.DECISION_BLOCK,
}


def _names(requested: list[str]) -> tuple[list[str], list[str]]:
    known: list[str] = []
    unknown: list[str] = []
    for n in requested:
        c = canonical(n)
        (known if c else unknown).append(c or n)
    return list(dict.fromkeys(known)), unknown


def _findings(res: Result) -> list[guardrail_pb2.Finding]:
    return [guardrail_pb2.Finding(guardrail=g, category=c, action=_DECISION[a]) for g, c, a in res.findings]


class GuardrailServicer(guardrail_pb2_grpc.GuardrailServiceServicer):
    async def CheckInput(
        self, request: guardrail_pb2.CheckInputRequest, context: grpc.aio.ServicerContext
    ) -> guardrail_pb2.CheckInputResponse:
        names, unknown = _names(list(request.guardrails))
        if unknown:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unknown guardrail(s): {', '.join(unknown)}")
        out = guardrail_pb2.CheckInputResponse(decision=guardrail_pb2.DECISION_ALLOW)
        masked_messages = []
        for msg in request.messages:
            new = chat_pb2.ChatMessage()
            new.CopyFrom(msg)
            which = msg.WhichOneof("content")
            texts = (
                [("text", None)]
                if which == "text"
                else [("part", i) for i, p in enumerate(msg.parts.parts) if p.WhichOneof("part") == "text"]
                if which == "parts"
                else []
            )
            for kind, idx in texts:
                text = msg.text if kind == "text" else msg.parts.parts[idx].text  # type: ignore[index]
                res = scan(text, names)
                out.findings.extend(_findings(res))
                if res.decision == BLOCK:
                    out.decision = guardrail_pb2.DECISION_BLOCK
                elif res.decision == MASK:
                    if out.decision != guardrail_pb2.DECISION_BLOCK:
                        out.decision = guardrail_pb2.DECISION_MASK
                    if kind == "text":
                        new.text = res.text
                    else:
                        new.parts.parts[idx].text = res.text  # type: ignore[index]
            masked_messages.append(new)
        if out.decision == guardrail_pb2.DECISION_BLOCK:
            cats = sorted({f.category for f in out.findings if f.action == guardrail_pb2.DECISION_BLOCK})
            out.reason = f"Request blocked by guardrail: {', '.join(cats)}"
        elif out.decision == guardrail_pb2.DECISION_MASK:
            out.messages.extend(masked_messages)
        return out

    async def CheckOutput(
        self, request: guardrail_pb2.CheckOutputRequest, context: grpc.aio.ServicerContext
    ) -> guardrail_pb2.CheckOutputResponse:
        names, unknown = _names(list(request.guardrails))
        if unknown:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unknown guardrail(s): {', '.join(unknown)}")
        res = scan(request.text, names)
        out = guardrail_pb2.CheckOutputResponse(decision=_DECISION[res.decision], findings=_findings(res))
        if res.decision == MASK:
            out.text = res.text
        elif res.decision == BLOCK:
            out.reason = "Response blocked by guardrail: " + ", ".join(sorted({c for _, c, _ in res.findings}))
        return out
