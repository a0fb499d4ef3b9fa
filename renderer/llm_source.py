"""A prompt to a storyboard through the ``openai`` client, with structured output.

The model is asked for JSON matching the storyboard schema (``response_format``
json_schema, strict), so it writes data, never code. The client retries 429 and
5xx replies with exponential backoff (honouring Retry-After); a reply that still
does not validate gets exactly one repair request quoting the validation errors,
and then the job fails as InvalidStoryboard. Without an API key nothing is sent
and the error says how to configure one: there is no silent offline fallback.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import openai
from openai.types.chat import ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema
from pydantic import ValidationError

from videojob.contract import Usage
from videojob.renderer.config import LlmConfig
from videojob.renderer.errors import LLMNotConfiguredError, LLMUnavailableError
from videojob.storyboard import InvalidStoryboardError, Storyboard, storyboard_json_schema, validation_messages

SYSTEM_PROMPT = """You write storyboards for short narrated explainer videos.
Reply with one JSON object that follows the given schema exactly.
Each scene has spoken narration (1 to 4 plain sentences, no markup) and exactly one visual:
title_card, bullet_list, equation (LaTeX math only, no \\input or macro definitions), comparison,
function_plot (expression in x using + - * / ^ and sin cos tan exp log sqrt abs, pi, e), diagram,
timeline, code, key_takeaways. Start with a title_card and end with key_takeaways.
Pick the theme that fits the subject: physics, math, chemistry, biology, history or default."""

REPAIR_PROMPT = """That storyboard does not validate:
{errors}
Reply with the whole corrected storyboard as JSON."""

# Keywords OpenAI's strict structured-output mode does not accept; pydantic still enforces them.
_UNSUPPORTED_KEYWORDS = {
    "discriminator",
    "default",
    "title",
    "maxLength",
    "minLength",
    "pattern",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "$id",
    "$schema",
}


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The storyboard schema in the subset strict mode accepts: every property required, no extras, anyOf."""

    def visit(node: Any) -> Any:
        if isinstance(node, list):
            return [visit(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {
            key: ({name: visit(sub) for name, sub in value.items()} if key in ("properties", "$defs") else visit(value))
            for key, value in node.items()
            if key not in _UNSUPPORTED_KEYWORDS
        }
        if "oneOf" in node:
            node["anyOf"] = node.pop("oneOf")
        if node.get("type") == "object" and "properties" in node:
            node["additionalProperties"] = False
            optional = set(node["properties"]) - set(node.get("required", []))
            for name in optional:  # strict mode: optional means "required but nullable"
                prop = node["properties"][name]
                if "const" not in prop and {"type": "null"} not in prop.get("anyOf", []):
                    node["properties"][name] = {"anyOf": [prop, {"type": "null"}]}
            node["required"] = list(node["properties"])
        return node

    return visit(copy.deepcopy(schema))


def _drop_nulls(value: Any) -> Any:
    """Strict mode sends null for every omitted optional field; null means "use the default"."""
    if isinstance(value, dict):
        return {key: _drop_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_drop_nulls(item) for item in value]
    return value


def _validate(content: str | None) -> tuple[Storyboard | None, list[str]]:
    if not content or not content.strip():
        return None, ["the reply was empty"]
    text = content.strip()
    if text.startswith("```"):  # servers without structured output often fence their JSON
        text = text.split("\n", 1)[-1].rsplit("```", 1)[0]
    try:
        data = json.loads(text)
    except ValueError as error:
        return None, [f"the reply is not JSON: {error}"]
    try:
        return Storyboard.model_validate(_drop_nulls(data)), []
    except ValidationError as error:
        return None, validation_messages(error)


def _client(llm: LlmConfig) -> openai.OpenAI:
    if not llm.api_key:
        raise LLMNotConfiguredError(
            "a prompt needs an LLM, but no API key is configured: set OPENAI_API_KEY (or the VideoJob's "
            "spec.llm secretKeyRef), or give a Markdown lecture or a storyboard instead"
        )
    return openai.OpenAI(
        api_key=llm.api_key, base_url=llm.base_url, timeout=llm.timeout_seconds, max_retries=llm.max_retries
    )


def storyboard_from_prompt(prompt: str, llm: LlmConfig) -> tuple[Storyboard, Usage]:
    """The storyboard the model writes for ``prompt``, and the tokens it cost."""
    client = _client(llm)
    response_format: ResponseFormatJSONSchema = {
        "type": "json_schema",
        "json_schema": {"name": "storyboard", "strict": True, "schema": strict_schema(storyboard_json_schema())},
    }
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": prompt},
    ]
    usage = Usage()
    errors: list[str] = []
    for attempt in ("first", "repair"):
        content, spent = _complete(client, llm.model, messages, response_format)
        usage = usage.model_copy(
            update={
                "llm_prompt_tokens": usage.llm_prompt_tokens + spent[0],
                "llm_completion_tokens": usage.llm_completion_tokens + spent[1],
            }
        )
        storyboard, errors = _validate(content)
        if storyboard is not None:
            return storyboard, usage
        if attempt == "first":
            messages += [
                {"role": "assistant", "content": content or ""},
                {"role": "user", "content": REPAIR_PROMPT.format(errors="\n".join(errors[:20]))},
            ]
    raise InvalidStoryboardError(["the LLM's storyboard did not validate after one repair", *errors[:20]])


def _complete(
    client: openai.OpenAI,
    model: str,
    messages: list[ChatCompletionMessageParam],
    response_format: ResponseFormatJSONSchema,
) -> tuple[str | None, tuple[int, int]]:
    try:
        completion = client.chat.completions.create(model=model, messages=messages, response_format=response_format)
    except (
        openai.AuthenticationError,
        openai.PermissionDeniedError,
        openai.NotFoundError,
        openai.BadRequestError,
    ) as error:
        raise LLMNotConfiguredError(
            f"the LLM endpoint rejected the request ({error.status_code}): {error.message}"
        ) from None
    except openai.OpenAIError as error:
        raise LLMUnavailableError(f"the LLM is unavailable: {type(error).__name__}: {error}") from None
    # The client trusts the endpoint's JSON: an HTML error page comes back as a str, a wrong shape as
    # an object with strings where lists should be.
    choices = getattr(completion, "choices", None)
    if not isinstance(choices, list) or (choices and not hasattr(choices[0], "message")):
        raise LLMUnavailableError(
            "the LLM endpoint did not answer like an OpenAI chat completions API "
            f"({str(completion)[:120]!r}); check spec.llm.baseUrl (or OPENAI_BASE_URL)"
        )
    if not choices:
        return None, _tokens(completion)
    message = choices[0].message
    if getattr(message, "refusal", None):
        raise InvalidStoryboardError([f"the LLM refused to write a storyboard: {message.refusal}"])
    return message.content, _tokens(completion)


def _tokens(completion: Any) -> tuple[int, int]:
    usage = getattr(completion, "usage", None)
    return (usage.prompt_tokens, usage.completion_tokens) if usage else (0, 0)
