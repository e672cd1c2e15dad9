import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';

import { AccessTokenGuard, AnyScope } from '../common/access-token.guard.js';
import { assertJsonBody } from '../common/json-body.js';
import { TokenServiceError } from '../common/token-service-error.js';
import { TOKEN_SERVICE_CONFIG, type TokenServiceConfig } from '../config/token-service.config.js';
import { GRANT_REVOKER, type GrantRevoker } from '../grants/grant-revoker.js';
import { ClientRegistry } from './client-registry.js';
import { clientView, parseNewClient } from './oauth-client.js';

const defaultPageSize = 50;
const maxPageSize = 200;

function parseLimit(value: string | undefined): number {
  if (value === undefined) return defaultPageSize;
  const limit = /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= maxPageSize)) {
    throw new TokenServiceError('request.invalid_body', `limit must be a whole number from 1 to ${maxPageSize}`, 'limit');
  }
  return limit;
}

/**
 * The client registry's admin API, for callers with the scope clients:admin or grants:admin. A
 * confidential client's secret appears once, in the response that creates it.
 */
@Controller('v1/clients')
@UseGuards(AccessTokenGuard)
@AnyScope(['clients:admin', 'grants:admin'])
export class ClientsHttpController {
  constructor(
    @Inject(ClientRegistry) private readonly registry: ClientRegistry,
    @Inject(TOKEN_SERVICE_CONFIG) private readonly config: TokenServiceConfig,
    @Inject(GRANT_REVOKER) private readonly revoker: GrantRevoker,
  ) {}

  @Post()
  @HttpCode(201)
  async create(@Headers('content-type') contentType: string | undefined, @Body() body: unknown) {
    assertJsonBody(contentType);
    const { client, clientSecret } = await this.registry.create(parseNewClient(body));
    return { ...clientView(client), ...(clientSecret === null ? {} : { client_secret: clientSecret }) };
  }

  /** Clients ordered by id; `cursor` is the `next_cursor` of the previous page. */
  @Get()
  async list(@Query('limit') limitText: string | undefined, @Query('cursor') cursor: string | undefined) {
    const limit = parseLimit(limitText);
    const after = cursor === undefined ? undefined : Buffer.from(cursor, 'base64url').toString('utf8');
    const clients = await this.registry.list(limit, after);
    const last = clients.at(-1);
    return {
      items: clients.map(clientView),
      next_cursor: clients.length === limit && last ? Buffer.from(last.clientId, 'utf8').toString('base64url') : null,
    };
  }

  @Get(':clientId')
  async get(@Param('clientId') clientId: string) {
    return clientView(await this.registry.get(clientId));
  }

  @Delete(':clientId')
  @HttpCode(204)
  async delete(@Param('clientId') clientId: string): Promise<void> {
    if (clientId === this.config.BOOTSTRAP_CLIENT_ID) {
      throw new TokenServiceError(
        'client.bootstrap_protected',
        `client ${clientId} is the bootstrap client, which the services use to call each other; change BOOTSTRAP_CLIENT_ID instead`,
        'client_id',
      );
    }
    await this.registry.delete(clientId);
    // The deleted client can no longer authenticate, so its tokens are dead either way; revoking its
    // grants ends them everywhere else too (account pages, subscribers). A failure was logged by the
    // revoker with the command to run by hand, and does not undo the deletion.
    await this.revoker.revokeClientGrants(clientId).catch(() => undefined);
  }
}
