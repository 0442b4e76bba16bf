# syntax=docker/dockerfile:1.7-labs
# One image build for every vigil process; each target only picks the entry point:
#   docker build --target image-scanner -t vigil/image-scanner:dev .
# Targets: image-scanner, config-auditor, runtime-ingest, host-assessor, correlator, reporting, vigil.
ARG NODE_IMAGE=node:20-bookworm-slim

# Dependencies from the lockfile only, so source edits do not reinstall them. --parents keeps each workspace's
# package.json at its path, which npm ci needs to link the workspaces.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --parents package.json package-lock.json libs/*/package.json services/*/package.json bench/package.json e2e/package.json ./
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY . .
ENV NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
RUN npx nx run-many -t build --parallel=2 --outputStyle=stream \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf .nx proto tools docs examples bench e2e infra \
 && find libs services -mindepth 2 -maxdepth 2 -name src -type d -prune -exec rm -rf {} +

# The runtime keeps the compiled output and production dependencies only, owned by root and so read-only for
# the unprivileged user the processes run as (the manifests also mount the root filesystem read-only).
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production PORT=8080
WORKDIR /app
COPY --from=build /app /app
USER 10001:10001
EXPOSE 8080

FROM runtime AS image-scanner
CMD ["node", "services/image-scanner/dist/main.js"]

FROM runtime AS config-auditor
CMD ["node", "services/config-auditor/dist/main.js"]

FROM runtime AS runtime-ingest
CMD ["node", "services/runtime-ingest/dist/main.js"]

FROM runtime AS host-assessor
CMD ["node", "services/host-assessor/dist/main.js"]

FROM runtime AS correlator
CMD ["node", "services/correlator/dist/main.js"]

FROM runtime AS reporting
CMD ["node", "services/reporting/dist/main.js"]

# The all-in-one distribution and CLI: `docker run -v vigil-data:/data vigil/vigil scan ...`. It works in /data,
# so its default data dir (./.vigil, embedded Postgres and log) is on the volume, not in the read-only /app.
FROM runtime AS vigil
USER root
RUN mkdir -p /data && chown 10001:10001 /data
USER 10001:10001
WORKDIR /data
VOLUME /data
ENTRYPOINT ["node", "/app/services/vigil/bin/vigil.js"]
CMD ["--help"]
