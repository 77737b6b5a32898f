# The project's commands; each one installs what it needs first.
.PHONY: run stop test lint bench bench-retention bench-suggestion bench-realtime screenshots

run:  ## install what is missing, then serve Odoo with the demo on http://localhost:8069
	bash scripts/run.sh

stop:  ## stop Odoo and PostgreSQL started by `make run`
	bash scripts/stop.sh

test:  ## lint, fresh database, the whole test suite
	bash scripts/test.sh $(PYTEST_ARGS)

lint:
	bash scripts/bootstrap.sh && bash scripts/lint.sh

bench:  ## scoring benchmark; CONTACTS=1000000 for the full size, RUNNER=cron or queue_job, WORKERS=2
	bash scripts/bench.sh $(or $(CONTACTS),100000) $(RUNNER)

bench-retention:  ## ledger compaction on LINES lines (default 10,000,000)
	bash scripts/bench.sh $(or $(LINES),10000000) retention

bench-suggestion:  ## suggested points over OPPORTUNITIES opportunities x 30 rules (default 100,000)
	bash scripts/bench.sh $(or $(OPPORTUNITIES),100000) suggestion

bench-realtime:  ## event-to-score latency and request cost on a prefork server; CONTACTS (default 20,000)
	bash scripts/bench.sh $(or $(CONTACTS),20000) realtime

screenshots:  ## remake the README's screenshots from the running product (after make run)
	bash -c 'source scripts/lib.sh && "$$PY" scripts/screenshots.py'
