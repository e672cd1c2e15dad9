import { Controller, Get, Header, Inject } from '@nestjs/common';

import { OPENAPI_DOCUMENT, type OpenApiDocument } from './openapi-document.js';

/**
 * The OpenAPI Initiative's vendor media types (`vnd.oai`) for OpenAPI documents, with the version
 * parameter, as other API servers such as Django REST framework serve them.
 *
 * NOTE: the Internet-Draft draft-ietf-httpapi-rest-api-mediatypes proposes
 * application/openapi+json and application/openapi+yaml instead; switch once it is an RFC.
 */
const openApiJsonMediaType = 'application/vnd.oai.openapi+json;version=3.1';
const openApiYamlMediaType = 'application/vnd.oai.openapi;version=3.1';

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
