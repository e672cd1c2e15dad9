import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import type { Metadata, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { FastifyRequest } from 'fastify';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';

import { singleMetadataValue } from '#grpc/grpc-metadata.js';
import { throwIfCancelled, unaryCall } from '#grpc/unary-call.js';

import { AccessTokenGuard } from '../common/access-token.guard.js';
import { IntrospectionHttpController } from '../oauth/introspection.http.controller.js';
import { RevocationHttpController } from '../oauth/revocation.http.controller.js';
import { TokenHttpController } from '../oauth/token.http.controller.js';
import { OfflineTokensHttpController } from '../offline-tokens/offline-tokens.http.controller.js';
import { translateTokenServiceError } from './token-grpc.errors.js';
import {
  type IntrospectRequest,
  type IntrospectResponse,
  type IssueOfflineTokenRequest,
  type IssueOfflineTokenResponse,
  type RefreshRequest,
  type RefreshResponse,
  type RevokeRequest,
  toIntrospectResponse,
} from './token.messages.js';

type Call<Request, Response> = ServerUnaryCall<Request, Response>;

/**
 * The TokenService of proto/tokens/v1/tokens.proto. It runs the REST and OAuth endpoints' own
 * code, so that both transports share every rule. IssueOfflineToken runs AccessTokenGuard with
 * the scopes that POST /v1/offline-tokens declares, then that endpoint's handler. Refresh,
 * Introspect and Revoke call the /oauth/* handlers with the request as a form.
 *
 * NOTE: introspection and revocation are implemented inside their HTTP controllers, which is why
 * this edge calls controllers with a form-shaped request instead of services. Moving that code
 * into services would let both edges call those, and drop the request adapter below.
 */
@Injectable()
export class TokenGrpcService implements OnModuleInit {
  private offlineTokens!: OfflineTokensHttpController;
  private tokenEndpoint!: TokenHttpController;
  private introspectionEndpoint!: IntrospectionHttpController;
  private revocationEndpoint!: RevocationHttpController;

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly accessTokenGuard: AccessTokenGuard,
    @InjectPinoLogger(TokenGrpcService.name) private readonly logger: PinoLogger,
  ) {}

  onModuleInit(): void {
    // The feature modules keep their controllers to themselves, so they are looked up across modules.
    this.offlineTokens = this.moduleRef.get(OfflineTokensHttpController, { strict: false });
    this.tokenEndpoint = this.moduleRef.get(TokenHttpController, { strict: false });
    this.introspectionEndpoint = this.moduleRef.get(IntrospectionHttpController, { strict: false });
    this.revocationEndpoint = this.moduleRef.get(RevocationHttpController, { strict: false });
  }

  /** The handlers to register with grpc-js, keyed by the proto's method names. */
  implementation(): UntypedServiceImplementation {
    return {
      IssueOfflineToken: unaryCall({
        method: 'IssueOfflineToken',
        logger: this.logger,
        translateError: (error) => translateTokenServiceError(error, 'rest'),
        handle: (request: IssueOfflineTokenRequest, call: Call<IssueOfflineTokenRequest, IssueOfflineTokenResponse>) =>
          this.issueOfflineToken(request, call),
      }),
      Refresh: this.oauthCall('Refresh', (request: RefreshRequest, call: Call<RefreshRequest, RefreshResponse>) => this.refresh(request, call)),
      Introspect: this.oauthCall('Introspect', (request: IntrospectRequest, call: Call<IntrospectRequest, IntrospectResponse>) =>
        this.introspect(request, call),
      ),
      Revoke: this.oauthCall('Revoke', (request: RevokeRequest, call: Call<RevokeRequest, object>) => this.revoke(request, call)),
    };
  }

  private async issueOfflineToken(
    request: IssueOfflineTokenRequest,
    call: Call<IssueOfflineTokenRequest, IssueOfflineTokenResponse>,
  ): Promise<IssueOfflineTokenResponse> {
    const bearerRequest = { headers: { authorization: authorizationOf(call.metadata) } };
    await this.accessTokenGuard.canActivate(
      new ExecutionContextHost([bearerRequest], OfflineTokensHttpController, OfflineTokensHttpController.prototype.issue),
    );
    const body = request.min_position === '0' ? { grant_id: request.grant_id } : { grant_id: request.grant_id, min_position: request.min_position };

    throwIfCancelled(call);
    return this.offlineTokens.issue('application/json', body);
  }

  private async refresh(request: RefreshRequest, call: Call<RefreshRequest, RefreshResponse>): Promise<RefreshResponse> {
    const form = {
      grant_type: 'refresh_token',
      refresh_token: request.refresh_token,
      scope: request.scope,
      client_id: request.client_id,
      client_secret: request.client_secret,
    };

    throwIfCancelled(call);
    return this.tokenEndpoint.token(formRequest(call.metadata, form));
  }

  private async introspect(request: IntrospectRequest, call: Call<IntrospectRequest, IntrospectResponse>): Promise<IntrospectResponse> {
    const form = {
      token: request.token,
      token_type_hint: request.token_type_hint,
      client_id: request.client_id,
      client_secret: request.client_secret,
    };

    return toIntrospectResponse(await this.introspectionEndpoint.introspect(formRequest(call.metadata, form)));
  }

  private async revoke(request: RevokeRequest, call: Call<RevokeRequest, object>): Promise<object> {
    const form = {
      token: request.token,
      token_type_hint: request.token_type_hint,
      client_id: request.client_id,
      client_secret: request.client_secret,
    };

    throwIfCancelled(call);
    await this.revocationEndpoint.revoke(formRequest(call.metadata, form));
    return {};
  }

  private oauthCall<Request, Response>(method: string, handle: (request: Request, call: Call<Request, Response>) => Promise<Response>) {
    return unaryCall({ method, logger: this.logger, translateError: (error) => translateTokenServiceError(error, 'oauth'), handle });
  }
}

function authorizationOf(metadata: Metadata): string | undefined {
  return singleMetadataValue(metadata, 'authorization', 'oauth.invalid_request');
}

/**
 * Presents an OAuth call to the /oauth/* handlers as the form request they read. The fields
 * become an application/x-www-form-urlencoded body, where empty ones count as omitted like empty
 * form parameters. The authorization metadata, which carries Basic client credentials, becomes
 * the Authorization header.
 */
function formRequest(metadata: Metadata, fields: Record<string, string>): FastifyRequest {
  const authorization = authorizationOf(metadata);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (authorization !== undefined) headers.authorization = authorization;
  return { headers, body: fields } as unknown as FastifyRequest;
}
