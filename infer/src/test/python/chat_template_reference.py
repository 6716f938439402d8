#!/usr/bin/env python3
"""Renders the chat templates of infer/src/test/resources/chat-templates/ with Python's Jinja2,
set up as Hugging Face transformers' apply_chat_template sets it up (chat_template_utils.py:
ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks and loop controls; its tojson,
raise_exception and strftime_now), and writes what each conversation renders to (or the error
it raises) to chat-templates/jinja2-renderings.json. JinjaChatTemplateTest checks that jgpt's
Jinjava rendering gives the same strings.

    python3 infer/src/test/python/chat_template_reference.py      # needs only jinja2
"""
import json
import os
from datetime import datetime, timezone

from jinja2.exceptions import TemplateError
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "..", "resources", "chat-templates")
NOW = datetime(2024, 7, 26, 12, 0, tzinfo=timezone.utc)   # the clock the Java test uses


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return NOW.strftime(format)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


SYSTEM = {"role": "system", "content": "You are a terse assistant."}
USER_1 = {"role": "user", "content": "What is 2+2?"}
ASSISTANT_1 = {"role": "assistant", "content": "4."}
USER_2 = {"role": "user", "content": "And 3+3?"}
TOOLS = [{"type": "function", "function": {"name": "add", "description": "Adds two numbers.",
                                            "parameters": {"type": "object", "properties": {
                                                "a": {"type": "number"}, "b": {"type": "number"}},
                                                           "required": ["a", "b"]}}}]

CASES = {
    "system-user-assistant-user": dict(messages=[SYSTEM, USER_1, ASSISTANT_1, USER_2], add_generation_prompt=True),
    "user-assistant-user": dict(messages=[USER_1, ASSISTANT_1, USER_2], add_generation_prompt=True),
    "user-assistant, no generation prompt": dict(messages=[USER_1, ASSISTANT_1], add_generation_prompt=False),
    "two users in a row": dict(messages=[USER_1, USER_2], add_generation_prompt=True),
    "tools": dict(messages=[SYSTEM, USER_1], tools=TOOLS, add_generation_prompt=True),
    "padded contents": dict(messages=[{"role": "system", "content": "  Be brief.\n"},
                                      {"role": "user", "content": " Hi \u00e9\u00e8 \U0001F600 \n"}],
                            add_generation_prompt=True),
}


def main():
    env = environment()
    out = {}
    for name in sorted(os.listdir(TEMPLATES)):
        config_file = os.path.join(TEMPLATES, name, "tokenizer_config.json")
        if not os.path.isfile(config_file):
            continue
        with open(config_file, encoding="utf-8") as f:
            config = json.load(f)
        special = {}
        for key in ("bos_token", "eos_token", "unk_token", "pad_token"):
            value = config.get(key)
            if isinstance(value, dict):
                value = value.get("content")
            if isinstance(value, str):
                special[key] = value
        template = env.from_string(config["chat_template"])
        rendered = {}
        for case, variables in CASES.items():
            try:
                rendered[case] = {"text": template.render(**special, **variables)}
            except TemplateError as e:
                rendered[case] = {"error": str(e)}
        out[name] = rendered
    target = os.path.join(TEMPLATES, "jinja2-renderings.json")
    with open(target, "w", encoding="utf-8") as f:
        json.dump({"cases": CASES, "renderings": out}, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print("wrote", target)


if __name__ == "__main__":
    main()
