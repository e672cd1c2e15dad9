import { type DynamicModule, Module } from '@nestjs/common';

import { loadOpenApiDocument, OPENAPI_DOCUMENT } from './openapi-document.js';
import { OpenApiHttpController } from './openapi.http.controller.js';

/** `GET /openapi.json` and `GET /openapi.yaml` for one app's hand-written OpenAPI document. */
@Module({})
export class OpenApiModule {
  /**
   * `documentPath` is the YAML file's path below the project root, such as
   * `apps/grant-service/openapi/openapi.yaml`. The file is read when the app starts, and a
   * missing or unreadable file stops the start.
   */
  static forApp(documentPath: string): DynamicModule {
    return {
      module: OpenApiModule,
      controllers: [OpenApiHttpController],
      providers: [{ provide: OPENAPI_DOCUMENT, useFactory: () => loadOpenApiDocument(documentPath) }],
    };
  }
}
