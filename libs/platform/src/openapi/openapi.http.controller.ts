import { Controller, Get, Header, Inject } from '@nestjs/common';

import type { OpenApiDocument } from './openapi-document.js';

/** Injection token of the app's OpenAPI document. */
export const OPENAPI_DOCUMENT = Symbol('OPENAPI_DOCUMENT');

/**
 * Media types that the OpenAPI Initiative registered with IANA for OpenAPI documents, with the
 * optional version parameter.
 */
export const openApiJsonMediaType = 'application/vnd.oai.openapi+json;version=3.1';
export const openApiYamlMediaType = 'application/vnd.oai.openapi;version=3.1';

/**
 * Serves the app's OpenAPI document as `GET /openapi.json` and `GET /openapi.yaml`. Both bodies
 * are built once at start. `no-cache` makes clients revalidate, so that they see a new document
 * right after a deployment.
 */
@Controller()
export class OpenApiHttpController {
  constructor(@Inject(OPENAPI_DOCUMENT) private readonly openApi: OpenApiDocument) {}

  @Get('openapi.json')
  @Header('Content-Type', openApiJsonMediaType)
  @Header('Cache-Control', 'no-cache')
  json(): string {
    return this.openApi.json;
  }

  @Get('openapi.yaml')
  @Header('Content-Type', openApiYamlMediaType)
  @Header('Cache-Control', 'no-cache')
  yaml(): string {
    return this.openApi.yaml;
  }
}
