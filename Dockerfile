# One image for the three apps; docker-compose.yml picks the entry point per service.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY apps apps
COPY libs libs
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
# The gRPC servers load their .proto files at start.
COPY proto proto
# The account page's static files, which the compiled grant service reads from the source tree.
COPY --from=build /app/apps/grant-service/src/account/public apps/grant-service/src/account/public
# Each app's OpenAPI document, which it reads from the source tree at start and serves.
COPY --from=build /app/apps/grant-service/openapi apps/grant-service/openapi
COPY --from=build /app/apps/token-service/openapi apps/token-service/openapi
COPY --from=build /app/apps/grant-projector/openapi apps/grant-projector/openapi
USER node
CMD ["node", "dist/apps/grant-service/src/main.js"]
