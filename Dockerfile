# Karaoke queue: build once with dev dependencies, ship only what production runs.
# The data lives on a volume at /data (DATA_DIR); nothing in this image is state.

# ---- build: compile TypeScript, then drop dev dependencies ----
FROM node:24-bookworm-slim AS build
WORKDIR /app

# Manifests first, so the npm ci layer is reused until the dependencies change.
COPY package.json package-lock.json ./
# npm ci installs exactly the lock file and fails if it disagrees with package.json.
RUN npm ci --no-audit --no-fund

COPY tsconfig.json ./
COPY server ./server
COPY scripts ./scripts
# test/ and scripts/bench/ (dev-only) are kept out by .dockerignore; tsc compiles what is left.
# mkdir: scripts/ may hold no .ts yet, and the runtime stage copies dist/scripts unconditionally.
RUN npx tsc -p tsconfig.json \
 && mkdir -p dist/scripts \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: same base, no compiler, no dev dependencies ----
FROM node:24-bookworm-slim AS runtime
WORKDIR /app

# production: the server refuses an unmounted DATA_DIR here instead of silently losing data.
# PORT 8080 is what fly.toml's internal_port and the HEALTHCHECK below expect.
# --max-semi-space-size=16: Node 24's larger young generation costs ~35 KB per open event stream;
# 16 MB brings it to ~18 KB with no measured throughput cost (docs/benchmarks.md).
# NODE_COMPILE_CACHE: V8's compiled code for the server's modules, made once below.
ENV NODE_ENV=production \
    DATA_DIR=/data \
    PORT=8080 \
    NODE_OPTIONS=--max-semi-space-size=16 \
    NODE_COMPILE_CACHE=/app/.compile-cache

# The mount point must exist and belong to node: a fresh Docker/Podman named volume copies this
# ownership, and Fly mounts its volume for the image's user. There is deliberately no VOLUME line:
# it would give every `docker run` without -v an anonymous volume, which passes the server's
# "is /data a mount?" check and then disappears with the container.
RUN mkdir -p /data && chown node:node /data

# Application files stay owned by root: the node user can read them but not rewrite its own code.
# package.json's "type": "module" is what makes node load dist/**/*.js as ES modules.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
# Only the server and the operator scripts; dist/test is never built here and never shipped.
COPY --from=build /app/dist/server ./dist/server
COPY --from=build /app/dist/scripts ./dist/scripts
# The server serves public/ from beside dist/ at runtime.
COPY public ./public
# npm run <operator script> builds first when it can; in the image there is nothing to build.
COPY scripts/ensure-build.mjs ./scripts/ensure-build.mjs

# Compile the modules of a start once, here: every start reads the cache instead (a restart on Fly
# begins from this image again, so a cache made at run time would be lost). Made as node, since
# Node names the cache's folder after the user, then owned by root like the code it comes from.
RUN mkdir .compile-cache && chown node:node .compile-cache
USER node
RUN node dist/scripts/warm-compile-cache.js
USER root
RUN chown -R root:root .compile-cache && chmod -R a+rX,go-w .compile-cache

USER node
EXPOSE 8080

# slim has no curl; node itself does the probe. 503 (storage broken) or no answer marks the
# container unhealthy. start-period covers the startup checks on the data directory. PORT is read
# so that `-e PORT=...` does not turn a healthy container unhealthy. (Podman keeps HEALTHCHECK only
# in docker-format images: build with `podman build --format docker`.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# Exec form: node is PID 1 and receives SIGTERM itself, so it can flush pending writes and exit 0.
# (A shell form would put /bin/sh in between and the signal would never reach node.) As PID 1 node
# gets no default signal handling; the server installs its own SIGTERM/SIGINT handlers.
CMD ["node", "dist/server/main.js"]
