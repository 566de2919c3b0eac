"""A real MCP client that nobody here wrote: the official Python SDK (`mcp`
from PyPI) drives `score mcp` as any agent would, over stdio or Streamable
HTTP. Driven by tests/mcp.rs, which checks what this prints.

    client.py stdio SCORE_BINARY WORKDIR
    client.py http  URL          WORKDIR

WORKDIR holds `broken.score` (an E0401) and the quickstart (a git
repository). The script asserts as it goes and prints one JSON object
with what it saw; any failure exits non-zero with the reason.
"""

import asyncio
import json
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client


def structured(result):
    """The structured content of a tool result (a dict)."""
    content = getattr(result, "structured_content", None)
    if content is None:
        content = getattr(result, "structuredContent", None)
    assert content is not None, f"no structured content in {result!r}"
    return content


def is_error(result):
    value = getattr(result, "is_error", None)
    if value is None:
        value = getattr(result, "isError", None)
    return bool(value)


async def exercise(session, seen, run_the_quickstart):
    await session.initialize()

    tools = await session.list_tools()
    names = sorted(tool.name for tool in tools.tools)
    seen["tools"] = names
    by_name = {tool.name: tool for tool in tools.tools}
    check_tool = by_name["check"]
    output_schema = getattr(check_tool, "output_schema", None) or getattr(check_tool, "outputSchema", None)
    assert output_schema and "diagnostics" in output_schema.get("properties", {}), output_schema

    # `check` on a broken score: E0401 with its position.
    result = await session.call_tool("check", {"paths": ["broken.score"]})
    assert not is_error(result), result
    check = structured(result)
    assert check["ok"] is False, check
    overlap = [d for d in check["diagnostics"] if d["code"] == "E0401"]
    assert overlap, check
    seen["check"] = overlap[0]

    # The same text, given in memory.
    with open("broken.score", encoding="utf-8") as f:
        text = f.read()
    result = await session.call_tool("check", {"text": text, "name": "broken.score"})
    seen["check_text_codes"] = sorted({d["code"] for d in structured(result)["diagnostics"]})

    # A tool that needs a clean score fails as a tool error with the codes.
    result = await session.call_tool("plan", {"file": "broken.score"})
    assert is_error(result), result
    seen["plan_error"] = structured(result)

    result = await session.call_tool("explain", {"code": "E0401"})
    seen["explain_title"] = structured(result)["title"]

    # A resource: the explanation of the code, and the language reference.
    resource = await session.read_resource("score://diagnostics/E0401")
    seen["resource_text"] = resource.contents[0].text[:200]
    listed = await session.list_resources()
    seen["resources"] = len(listed.resources)

    prompts = await session.list_prompts()
    seen["prompts"] = sorted(p.name for p in prompts.prompts)
    prompt = await session.get_prompt("draft_score", {"spec": "a tiny shop"})
    seen["prompt_text"] = prompt.messages[0].content.text[:4000]

    if not run_the_quickstart:
        return

    # `run` the quickstart in the background, then poll `status`.
    result = await session.call_tool("run", {"file": "quickstart/quickstart.score"})
    assert not is_error(result), result
    run = structured(result)
    seen["run"] = run
    states = []
    # Bounded so that a broken server fails the test instead of hanging it.
    deadline = time.monotonic() + 300
    while True:
        # No workspace: the server knows where the run it started is.
        result = await session.call_tool("status", {"run_id": run["run_id"]})
        assert not is_error(result), result
        status = structured(result)
        if not states or states[-1] != status["state"]:
            states.append(status["state"])
        if status["done"]:
            break
        assert time.monotonic() < deadline, f"the run did not finish: {status}"
        await asyncio.sleep(0.2)
    seen["states"] = states
    seen["status"] = status
    report = await session.read_resource(f"score://runs/{run['run_id']}/report")
    seen["report"] = report.contents[0].text


async def main():
    mode, target, workdir = sys.argv[1], sys.argv[2], sys.argv[3]
    import os

    os.chdir(workdir)
    seen = {}
    if mode == "stdio":
        params = StdioServerParameters(command=target, args=["mcp"], cwd=workdir)
        async with stdio_client(params) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await exercise(session, seen, run_the_quickstart=True)
    elif mode == "http":
        async with streamable_http_client(target) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await exercise(session, seen, run_the_quickstart=False)
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(seen))


asyncio.run(main())
