"""Print the mutation score of the last `mutmut run` (killed / total) and fail below a
minimum.

    python scripts/mutation_score.py --min 90

Reads mutants/mutmut-cicd-stats.json, which `mutmut export-cicd-stats` writes. A mutant
that timed out counts as killed (the tests noticed it: it never finished); one without
a test, or that survived, counts against the score.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

STATS = Path("mutants/mutmut-cicd-stats.json")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--min", type=float, default=0.0, help="lowest passing score, %"
    )
    minimum = parser.parse_args().min
    if not STATS.exists():
        print(f"{STATS} is missing: run `mutmut run` and `mutmut export-cicd-stats`.")
        return 2
    stats = json.loads(STATS.read_text())
    total = stats["total"]
    killed = stats["killed"] + stats["timeout"]
    score = 100 * killed / total if total else 0.0
    print(
        f"Mutation score of workflow/core/: {killed} killed / {total} mutants = "
        f"{score:.1f}% (survived {stats['survived']}, no tests {stats['no_tests']}, "
        f"timeouts {stats['timeout']}, suspicious {stats['suspicious']})"
    )
    if score < minimum:
        print(f"Below the minimum of {minimum:g}%: see TESTING.md.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
