# The chargeops image: the `chargeops` command line of a pip install, so the same entry points serve every
# use (the Helm chart runs `chargeops operator …`, `chargeops gateway …` and `chargeops portal …` from it).
# The portal's and the emails' templates ship in the wheel (pyproject's package-data). From the repository root:
#
#   docker build -t chargeops:0.1.0.dev0 .
#   docker run --rm chargeops:0.1.0.dev0 gateway --help
#
# pyproject.toml requires Python >= 3.11; 3.12 is what the image ships. Everything the package needs comes
# as wheels (asyncpg, cryptography, jsonschema-rs…), so neither stage needs a compiler.
ARG PYTHON_VERSION=3.12

FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Only what the wheel is built from (setuptools reads README.md as the long description).
COPY pyproject.toml README.md ./
COPY chargeops ./chargeops
# A virtualenv at a fixed path: the runtime stage copies it whole, and its interpreter symlink points at
# the same /usr/local/bin/python3 there. pip compiles the bytecode now, as the root filesystem is
# read-only at run time.
RUN python -m venv /opt/chargeops \
    && /opt/chargeops/bin/pip install --no-cache-dir . \
    && /opt/chargeops/bin/chargeops --version

FROM python:${PYTHON_VERSION}-slim
LABEL org.opencontainers.image.title="chargeops" \
      org.opencontainers.image.description="Pay-per-month EV charging on Kubernetes: operator, OCPP gateway, billing" \
      org.opencontainers.image.licenses="Apache-2.0"
# UID/GID 10001: no base image user has it; the Helm chart's securityContext runs as the same ids.
RUN groupadd --system --gid 10001 chargeops \
    && useradd --system --uid 10001 --gid chargeops --home-dir /var/lib/chargeops --create-home \
       --shell /usr/sbin/nologin chargeops
COPY --from=build /opt/chargeops /opt/chargeops
ENV PATH="/opt/chargeops/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# The gateway's default SQLite file (chargeops-gateway.db) lands here; the chart mounts its volume here too.
WORKDIR /var/lib/chargeops
USER 10001:10001
# OCPP websockets (gateway), control API (gateway), /metrics and /healthz (operator), pages (portal).
EXPOSE 9000 9001 8080 8000
ENTRYPOINT ["chargeops"]
CMD ["--help"]
