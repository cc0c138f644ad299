# Plugboard's server image: `plugboard serve` by default, `plugboard runner` as the alternative
# command. docs/deployment.md ("Deployment files") says how to add your integrations and which
# privileges the runner's executor isolation needs.
#
#   docker build -t plugboard .
#   docker run -e DATABASE_URL=… -e PLUGBOARD_ENCRYPTION_KEY_FILE=/run/secrets/… plugboard            # serve
#   docker run … plugboard runner                                                                  # runner
ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: every dependency (dev ones too), the library and the server compiled, then dev deps pruned
FROM ${NODE_IMAGE} AS build
# better-sqlite3 compiles from source where no prebuilt binary can be fetched.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY server/package.json server/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime: production dependencies and compiled code only, run as a non-root user
FROM ${NODE_IMAGE} AS runtime
# util-linux (unshare, setpriv) and mount put each executor in its own PID and mount namespace;
# tini, as PID 1, reaps the processes flows leave behind and passes SIGTERM on.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini util-linux mount \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --system --gid 10001 plugboard \
  && useradd --system --uid 10001 --gid 10001 --home-dir /home/plugboard --create-home --shell /usr/sbin/nologin plugboard
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8787
# Owned by root and world-readable: the server can't change its own code, and executors running
# under their own uids (a root runner) can still load it.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/npm ./dist/npm
COPY --from=build /app/server/package.json ./server/package.json
COPY --from=build /app/server/bin ./server/bin
COPY --from=build /app/server/dist ./server/dist
USER 10001:10001
EXPOSE 8787
STOPSIGNAL SIGTERM
# Liveness only (/healthz); balancers check /readyz. The image has no curl: Node's fetch does it.
# A runner serves no HTTP: compose and Kubernetes turn this check off for it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8787)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# --max-semi-space-size=32 (V8's young generation, 16 MB a half by default): half as many young GCs
# per request; in docs/benchmarks.md ("Seventh session, HTTP path") a catalog read costs ~10 % less CPU.
# bench/http.ts runs its server with the node flags named here.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=32", "/app/server/bin/plugboard.js"]
CMD ["serve"]
