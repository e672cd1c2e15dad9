import { Body, Controller, Header, Headers, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';

import { AccessTokenGuard, AnyScope } from '../common/access-token.guard.js';
import { assertJsonBody } from '../common/json-body.js';
import { TokenServiceError } from '../common/token-service-error.js';
import { type IssuedOfflineToken, OfflineTokenIssuer } from './offline-token-issuer.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const maxPosition = 2n ** 63n - 1n;

function invalidBody(message: string, field: string): TokenServiceError {
  return new TokenServiceError('request.invalid_body', message, field);
}

/** Parses `{"grant_id", "min_position"?}`; min_position is a JSON integer or a decimal string. */
function parseIssueRequest(body: unknown): { grantId: string; minPosition?: bigint } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidBody('the request body must be a JSON object such as {"grant_id":"…"}', 'body');
  }
  const { grant_id: grantId, min_position: minPosition, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw invalidBody(`${unknown[0]} is not a field of this request; send grant_id and optionally min_position`, unknown[0]);
  if (typeof grantId !== 'string' || !uuidPattern.test(grantId)) {
    throw invalidBody('grant_id must be a grant id in UUID form', 'grant_id');
  }
  if (minPosition === undefined || minPosition === null) return { grantId: grantId.toLowerCase() };

  const text = typeof minPosition === 'number' && Number.isSafeInteger(minPosition) ? String(minPosition) : minPosition;
  if (typeof text !== 'string' || !/^\d{1,19}$/.test(text) || BigInt(text) > maxPosition) {
    throw invalidBody('min_position must be a non-negative integer, as a number or a decimal string, such as the position a grant command returned', 'min_position');
  }
  return { grantId: grantId.toLowerCase(), minPosition: BigInt(text) };
}

/** `POST /v1/offline-tokens`: offline-token issuance for trusted callers with the scope tokens:issue. */
@Controller('v1/offline-tokens')
@UseGuards(AccessTokenGuard)
export class OfflineTokensHttpController {
  constructor(@Inject(OfflineTokenIssuer) private readonly issuer: OfflineTokenIssuer) {}

  @Post()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @AnyScope(['tokens:issue'])
  issue(@Headers('content-type') contentType: string | undefined, @Body() body: unknown): Promise<IssuedOfflineToken> {
    assertJsonBody(contentType);
    const request = parseIssueRequest(body);
    return this.issuer.issue(request.grantId, request.minPosition);
  }
}
