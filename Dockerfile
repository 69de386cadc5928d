# syntax=docker/dockerfile:1
# One image runs every imgpipe process; the command picks which:
#   docker run imgpipe run worker --stage detect | run results | run ingest-api | migrate | topics create | schemas register
# TypeScript runs directly on Node 24 (type stripping): there is no build step, only runtime dependencies.
#
# Build arguments:
#   NODE_IMAGE  base image (glibc Debian: sharp's libvips and onnxruntime-node ship prebuilt glibc binaries)
#   MODELS_DIR  a folder inside the build context copied to /models (IMGPIPE_MODELS_DIR); default
#               infra/docker/models, where `imgpipe models fetch --dir infra/docker/models` puts the weights
#               (git-ignored). Built without weights, the image expects them mounted at /models.
ARG NODE_IMAGE=node:24-bookworm-slim

# --- the workspace manifests alone, so the dependency layer is rebuilt only when a package.json changes ---
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY packages packages
COPY apps apps
RUN find packages apps -mindepth 2 -maxdepth 2 ! -name package.json -exec rm -rf {} +

# --- runtime dependencies ---
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# onnxruntime-node's install script would download GPU binaries; its CPU binaries are in the npm package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
COPY --from=manifests /src/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

# --- runtime ---
FROM ${NODE_IMAGE} AS runtime
# jemalloc: sharp/libvips allocates and frees large pixel buffers from many threads; with glibc's malloc the freed
# memory stays fragmented across per-thread arenas and RSS keeps growing under load, while jemalloc returns it to
# the OS (this is the sharp maintainers' own advice for long-running Linux processes). The symlink gives one
# LD_PRELOAD path on every architecture.
RUN apt-get update \
  && apt-get install -y --no-install-recommends libjemalloc2 \
  && rm -rf /var/lib/apt/lists/* \
  && ln -s "$(find /usr/lib -name libjemalloc.so.2 | head -n 1)" /usr/local/lib/libjemalloc.so.2 \
  && groupadd --gid 10001 imgpipe \
  && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin imgpipe
ENV LD_PRELOAD=/usr/local/lib/libjemalloc.so.2 \
    NODE_ENV=production \
    IMGPIPE_MODELS_DIR=/models \
    IMGPIPE_HTTP_PORT=9464

WORKDIR /app
COPY --from=deps /app/ ./
COPY . .
ARG MODELS_DIR=infra/docker/models
COPY ${MODELS_DIR}/ /models/

# Files stay root-owned and read-only to the process; it writes only to /tmp (an emptyDir on Kubernetes, where
# the root filesystem is read-only).
USER 10001:10001
EXPOSE 8080 9464

# Workers and results serve /healthz on IMGPIPE_HTTP_PORT (9464), the ingest API on IMGPIPE_API_PORT (8080): the
# one-liner is healthy if either answers 200.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const ports=[process.env.IMGPIPE_HTTP_PORT||9464,process.env.IMGPIPE_API_PORT||8080];Promise.any(ports.map((p)=>fetch('http://127.0.0.1:'+p+'/healthz',{signal:AbortSignal.timeout(3000)}).then((r)=>{if(!r.ok)throw new Error(r.status)}))).then(()=>process.exit(0),()=>process.exit(1))"]

# imgpipe's runtime V8 flags, the ones `imgpipe dev` gives its processes (NODE_RUNTIME_FLAGS in
# apps/cli/src/node-runtime-flags.ts; test/deploy/dockerfile.test.ts keeps them equal): a young generation capped at
# 8 MiB per semi-space, no memory reducer, and an old generation that grows by 30 % between full collections (the
# vision stages raise it to 100 % at start: apps/worker/src/old-generation-growth.ts), so RSS neither swings after a
# burst of work or a quiet spell nor climbs to a late high-water mark. On the command line because Node refuses
# --no-memory-reducer in NODE_OPTIONS.
ENTRYPOINT ["node", "--max-semi-space-size=8", "--no-memory-reducer", "--heap-growing-percent=30", "apps/cli/bin/imgpipe.js"]
CMD ["run", "ingest-api"]
