"""Fakes, harnesses and fixtures the tests share (like bolt-python's mock_web_api_server).

Importable as `tests.support.<module>` (pytest puts the repository root on sys.path):
- `slack_fake`: a local fake of Slack's Web API that records every call;
- `slack_harness`: the Bolt app served over real signed HTTP, with event builders;
- `slack_fixtures`: the `bot` / `make_bot` fixtures and waiting helpers;
- `openai_fake`, `openai_finetune_fake`: OpenAI-compatible chat and fine-tuning servers;
- `local_llm`: the shipped SmolLM2 GGUF; `app_server`, `local_http`: serving helpers;
- `served_process`: the real server in its own process (kill and restart tests);
- `knowledge_fixtures`: a sample knowledge base; `privacy_corpus`: seeded personal data.
"""
