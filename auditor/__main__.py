from auditor.cli import program

raise SystemExit(program())
