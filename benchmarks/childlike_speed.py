"""Speed of the child-likeness scorer and the full authenticity score, per reply, on the CPU.

    .venv/bin/python benchmarks/childlike_speed.py

Times the first load of the model file, then ``child_likeness`` and ``score_reply`` (as maya)
over every row of the training sources, 5 passes; prints the mean and p95 per reply and the
model file's size. Target: under 1 ms a reply. Writes benchmarks/results/childlike_speed.json.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    started = time.perf_counter()
    from trainers.childlike.scorer import MODEL_PATH, default_model

    model = default_model()
    load_ms = (time.perf_counter() - started) * 1000
    from personas.loader import PersonaLibrary
    from trainers.childlike.dataset import load_rows
    from trainers.metric import score_reply

    texts = [r.text for r in load_rows()]
    maya = PersonaLibrary().get("maya")
    results = {"load_ms": round(load_ms, 2), "model_bytes": MODEL_PATH.stat().st_size}
    for name, fn in (
        ("child_likeness", model.probability),
        ("score_reply", lambda t: score_reply(t, maya)),
    ):
        per_reply = []
        for _ in range(5):
            for text in texts:
                t0 = time.perf_counter()
                fn(text)
                per_reply.append((time.perf_counter() - t0) * 1000)
        per_reply.sort()
        results[name] = {
            "mean_ms": round(statistics.mean(per_reply), 4),
            "p95_ms": round(per_reply[int(0.95 * len(per_reply))], 4),
            "replies": len(per_reply),
        }
        print(
            f"{name}: mean {results[name]['mean_ms']:.3f} ms, p95 {results[name]['p95_ms']:.3f} ms"
        )
    print(f"model load {load_ms:.1f} ms, file {results['model_bytes'] / 1024:.0f} KiB")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "childlike_speed.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
