"""The CPU and memory one uploaded photo costs the web worker (issue 28.4), in process, no HTTP.

For each shape (a PNG or JPEG that fits the 5 MB upload limit), a fresh process runs
``hotline.intake.services.read_photo`` ``--rounds`` times and reports the median wall and CPU time and its
peak RSS above what it held before the first photo. "at the pixel limit" is the largest photo accepted; the
bomb is what the issue's probe sent (refused from its header before any pixel is decoded); the last row
decodes the bomb anyway (``reencode_photo`` called directly), which is what the header check saves.

    .venv/bin/python bench/photos.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def image_bytes(size, kind: str) -> bytes:
    from PIL import Image

    # A gradient compresses like a photo of a wall would, far below the 5 MB limit.
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    image.save(out, kind, **({"quality": 90} if kind == "JPEG" else {}))
    return out.getvalue()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(path: str, rounds: int, decode_anyway: bool) -> dict:
    """In this (fresh) process: time read_photo on the file's bytes."""
    from hotline import create_app
    from hotline.core.errors import ValidationFailed
    from hotline.intake.services import read_photo, reencode_photo

    data = Path(path).read_bytes()
    app = create_app("testing")
    walls, cpus, answer = [], [], "stored"
    with app.test_request_context():
        before = peak_rss_mb()
        for _ in range(rounds):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                reencode_photo(data, "PNG") if decode_anyway else read_photo("p", io.BytesIO(data))
            except ValidationFailed:
                answer = "refused"
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
    return {
        "answer": "decoded" if decode_anyway else answer,
        "wall": statistics.median(walls),
        "cpu": statistics.median(cpus),
        "rss": peak_rss_mb() - before,
        "bytes": len(data),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the child process: a file to time
    parser.add_argument("--decode-anyway", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.rounds, args.decode_anyway)))
        return
    from hotline.intake.services import MAX_PHOTO_PIXELS

    side = int(MAX_PHOTO_PIXELS**0.5)
    shapes = [
        ("phone JPEG 4032×3024", (4032, 3024), "JPEG", False),
        ("phone PNG 2400×1080", (2400, 1080), "PNG", False),
        (f"JPEG at the pixel limit {side}×{side}", (side, side), "JPEG", False),
        (f"PNG at the pixel limit {side}×{side}", (side, side), "PNG", False),
        ("bomb PNG 9000×9000", (9000, 9000), "PNG", False),
        ("bomb PNG 9000×9000, decoded anyway", (9000, 9000), "PNG", True),
    ]
    print(f"{'photo':40} {'bytes':>9} {'answer':>8} {'wall ms':>8} {'CPU ms':>8} {'peak RSS +MB':>12}")
    with tempfile.TemporaryDirectory() as folder:
        for name, size, kind, decode_anyway in shapes:
            path = Path(folder) / f"{size[0]}x{size[1]}.{kind.lower()}"
            if not path.exists():
                path.write_bytes(image_bytes(size, kind))
            command = [sys.executable, __file__, "--measure", str(path), "--rounds", str(args.rounds)]
            out = subprocess.run(
                command + (["--decode-anyway"] if decode_anyway else []),
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            ).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(f"{name:40} {r['bytes']:>9} {r['answer']:>8} {r['wall']:>8.1f} {r['cpu']:>8.1f} {r['rss']:>12.0f}")


if __name__ == "__main__":
    main()
