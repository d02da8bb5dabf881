"""What the OpenAI data check reports about a real file: how its tokens were counted."""

from __future__ import annotations

import json
from pathlib import Path

from trainers.openai_validate import TokenCounter, format_report, validate_file

WORDS = TokenCounter("words", True, lambda text: len(text.split()))


def test_a_checked_files_report_says_how_its_tokens_were_counted(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    messages = [{"role": "user", "content": "52 - 27?"}, {"role": "assistant", "content": "35"}]
    path.write_text(json.dumps({"messages": messages}) + "\n", "utf-8")
    report = validate_file(path, counter=WORDS, training=False)
    assert report.counter_method == "words"
    # 3 to prime the reply, then 3 per message plus its role and content (in words here)
    assert report.tokens == [3 + (3 + 1 + 3) + (3 + 1 + 1)]
    assert format_report([report]).splitlines()[-1] == "tokens counted with words"
