"""Explore echo-bench from Python: load results as DataFrames, restyle a report figure, and
train one seed yourself.

    python examples/explore_results.py [--results results] [--out examples-out]
"""

import argparse
from pathlib import Path

import bench
import echo
from bench.report import figures

arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
arguments.add_argument("--results", type=Path, default=Path("results"))
arguments.add_argument("--out", type=Path, default=Path("examples-out"))
args = arguments.parse_args()

# Every stored run and its curves, as two tidy DataFrames.
runs, curves = bench.load(args.results)
summary = (runs.groupby(["experiment", "variant"], sort=False)["eval_accuracy"]
           .agg(["count", "mean", "min"]).rename(columns={"count": "seeds"}))
print(summary.round(4).to_string())

# A report figure, returned so it can be restyled before saving.
masking = runs[runs["experiment"] == "masking"]
figure = figures.seed_scores(masking, None, order=list(dict.fromkeys(masking["variant"])))
figure.axes[0].set_title("masking: held-out accuracy of every seed")
args.out.mkdir(parents=True, exist_ok=True)
figure.savefig(args.out / "masking-seeds.png", dpi=80)

# One seed of a setup of your own: echo the current value with a small LSTM for a few epochs.
setup = echo.Setup(framing="current", units=15, batch_size=1, stateful=False, epochs=20,
                   eval_sequences=50)
run = echo.run(setup, seed=0)
print(f"\n{setup.describe()}: held-out accuracy {run.eval_accuracy:.3f} after "
      f"{setup.epochs} epochs (final loss {run.final_loss:.3f}) on {run.device}")
