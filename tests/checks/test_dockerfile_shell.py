"""The DF controls that read RUN commands, on the lockfile-detecting install chain of the usual
Next.js Dockerfile (written here in that pattern): each control gets the status the catalog asks
for, and the finding names the branch."""
from __future__ import annotations

from pathlib import Path

from auditor.api import scan
from auditor.model.dockerfile import ships_only_production_dependencies
from auditor.parsers.dockerfile import parse_dockerfile

LOCKFILE_CHAIN = """\
FROM node:20-alpine AS base

FROM base AS deps
RUN apk add --no-cache libc6-compat
WORKDIR /app
COPY package.json yarn.lock* package-lock.json* pnpm-lock.yaml* ./
RUN \\
  if [ -f yarn.lock ]; then yarn --frozen-lockfile; \\
  elif [ -f package-lock.json ]; then npm ci; \\
  elif [ -f pnpm-lock.yaml ]; then corepack enable pnpm && pnpm i --frozen-lockfile; \\
  else echo "Lockfile not found." && exit 1; \\
  fi

FROM base AS builder
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
RUN \\
  if [ -f yarn.lock ]; then yarn run build; \\
  elif [ -f package-lock.json ]; then npm run build; \\
  else echo "Lockfile not found." && exit 1; \\
  fi

FROM base AS runner
WORKDIR /app
ENV NODE_ENV=production
RUN addgroup --system --gid 1001 nodejs && adduser --system --uid 1001 nextjs
COPY --from=builder /app/public ./public
COPY --from=builder --chown=nextjs:nodejs /app/.next/standalone ./
COPY --from=builder --chown=nextjs:nodejs /app/.next/static ./.next/static
USER nextjs
CMD ["node", "server.js"]
"""


def controls(tmp_path: Path, text: str) -> dict:
    (tmp_path / "Dockerfile").write_text(text, encoding="utf-8")
    result = scan([tmp_path], select=["DF005", "DF006", "DF007", "DF009", "DF016"])
    return result.controls


def test_lockfile_chain_is_checked_not_skipped(tmp_path: Path) -> None:
    found = controls(tmp_path, LOCKFILE_CHAIN)
    # deps' node_modules feed only the builder; the runner ships the standalone output
    assert found["DF005"].status == "pass"
    assert found["DF006"].status == "fail"
    (evidence,) = found["DF006"].evidence
    assert evidence.span.line == 7
    assert "'npm ci' (line 9, in the elif [ -f package-lock.json ] branch)" in evidence.text
    assert found["DF007"].status == "pass" and found["DF007"].evidence[0].span.line == 6
    assert found["DF009"].status == "pass"
    assert found["DF016"].status == "pass"


def test_the_chain_fails_df005_once_its_node_modules_ship(tmp_path: Path) -> None:
    shipping = LOCKFILE_CHAIN.replace("COPY --from=builder /app/public ./public",
                                      "COPY --from=deps /app/node_modules ./node_modules")
    found = controls(tmp_path, shipping)
    assert found["DF005"].status == "fail"
    assert "elif [ -f package-lock.json ] branch" in found["DF005"].evidence[0].text


def test_unparsable_run_makes_the_control_error_not_pass(tmp_path: Path) -> None:
    broken = "FROM node:20-alpine\nCOPY package.json package-lock.json ./\nRUN if then npm ci; (\n"
    found = controls(tmp_path, broken)
    assert found["DF006"].status == "error" and "line 3" in found["DF006"].reason


def test_model_tells_whether_shipped_dependencies_are_production_only() -> None:
    doc, _ = parse_dockerfile(LOCKFILE_CHAIN, "Dockerfile")
    assert ships_only_production_dependencies(doc) is None  # no shipping stage installs with npm
    shipping, _ = parse_dockerfile(LOCKFILE_CHAIN.replace(
        "COPY --from=builder /app/public ./public", "COPY --from=deps /app/node_modules ./node_modules"), "Dockerfile")
    assert ships_only_production_dependencies(shipping) is False
    pruned, _ = parse_dockerfile(LOCKFILE_CHAIN.replace("then npm ci;", "then npm ci --omit=dev;").replace(
        "COPY --from=builder /app/public ./public", "COPY --from=deps /app/node_modules ./node_modules"), "Dockerfile")
    assert ships_only_production_dependencies(pruned) is True
