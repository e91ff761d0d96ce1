# The auditor as a container image: `docker build -t auditor .`, then
#   docker run --rm --read-only --tmpfs /tmp -v "$PWD:/src:ro" auditor scan /src
# Non-root (UID 1001), nothing written outside /tmp (the audit reads /src, reports go to stdout
# or to a mounted folder), so it runs with a read-only root filesystem. Trivy is optional:
#   docker build --build-arg WITH_TRIVY=1 -t auditor:trivy .
# (Alpine's trivy package; its vulnerability database is downloaded into $HOME/.cache on first
# use, so give it a writable cache: -v trivy-cache:/home/auditor/.cache or --offline.)
# The image's own Dockerfile passes `auditor scan` (tests/test_container.py).

FROM python:3.12-alpine AS build
WORKDIR /build
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY auditor ./auditor
COPY rules ./rules
RUN python -m venv /opt/auditor \
    && /opt/auditor/bin/pip install --no-cache-dir -c constraints.txt . \
    && /opt/auditor/bin/auditor -V

FROM python:3.12-alpine AS runtime
ARG WITH_TRIVY=0
RUN if [ "$WITH_TRIVY" = "1" ]; then apk add --no-cache trivy; fi \
    && addgroup -S -g 1001 auditor \
    && adduser -S -D -u 1001 -G auditor -h /home/auditor auditor
COPY --from=build --chown=root:root /opt/auditor /opt/auditor
ENV PATH="/opt/auditor/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    AUDITOR_NO_CACHE=1
WORKDIR /src
USER 1001:1001
# auditor: ignore=DF014 reason="a command-line tool that exits when done, not a service: nothing to probe"
HEALTHCHECK NONE
ENTRYPOINT ["auditor"]
CMD ["scan", "."]
