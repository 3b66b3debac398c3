"""How long ``import skntl`` takes, against ``import sklearn`` in the same process tree.

Each statement runs in a fresh interpreter (``python -X importtime -c ...``), alternating
between the statements ``--repeats`` times; the table gives the median of the total
import time that ``-X importtime`` reports and its ratio to ``import sklearn``. The deep
methods load torch on first use only, so ``import skntl`` should cost about what
scikit-learn (which it imports) costs.

Run::

    python benchmarks/bench_import.py [--repeats 7]
"""

import argparse
import re
import statistics
import subprocess
import sys

STATEMENTS = {
    "import sklearn": "import sklearn, sklearn.base",
    "import skntl": "import skntl",
    "import skntl; skntl.DANN": "import skntl; skntl.DANN",
}


def _import_seconds(code):
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                         capture_output=True, text=True, check=True).stderr
    # cumulative microseconds of the top-level imports
    tops = [int(m.group(1)) for m in re.finditer(r"import time:\s+\d+ \|\s+(\d+) \| \S", err)]
    return sum(tops) / 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    times = {name: [] for name in STATEMENTS}
    for _ in range(args.repeats):
        for name, code in STATEMENTS.items():
            times[name].append(_import_seconds(code))
    base = statistics.median(times["import sklearn"])
    print(f"| statement | median import time (s), {args.repeats} runs | ratio to import sklearn |")
    print("|---|---|---|")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"| `{name}` | {med:.2f} | {med / base:.2f}× |")


if __name__ == "__main__":
    main()
