# The README's two commands. Both set everything up on a fresh machine (only Python needed).
.PHONY: demo test lint bench

demo:   ## set up, then run the whole journey on demo data and start the scoring API
	scripts/bootstrap.sh
	.venv/bin/leadscore demo

test:   ## set up, then run the whole test suite
	scripts/test.sh

lint:
	scripts/bootstrap.sh test
	.venv/bin/ruff check .

bench:  ## benchmarks (not tests): generator, features, review, serving, reasons, batch, replicas
	scripts/bootstrap.sh test
	.venv/bin/python bench/bench_generate.py --leads 1000000
	.venv/bin/python bench/bench_features.py --leads 1000000
	.venv/bin/python bench/bench_review.py --leads 100000 1000000
	.venv/bin/python bench/bench_serving.py
	.venv/bin/python bench/bench_reasons.py
	.venv/bin/python bench/bench_batch.py --leads 1000000
	.venv/bin/python bench/bench_replicas.py
