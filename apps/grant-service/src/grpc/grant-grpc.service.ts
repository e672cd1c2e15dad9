import { Injectable } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Metadata, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';

import { parseClientId, parseUserId } from '#grant-domain/grant-input.js';
import { parseScopes } from '#grant-domain/scope-set.js';
import { bearerTokenFrom } from '#grpc/grpc-metadata.js';
import { grantServiceName } from '#grpc/proto-files.js';
import { throwIfCancelled, unaryCall } from '#grpc/unary-call.js';
import { ProblemError } from '#platform/problem-details/problem.js';

import { AccessTokenVerifier } from '../grants/auth/access-token.verifier.js';
import { type GrantApiCaller, type GrantApiScope, hasScope, insufficientScopeProblem } from '../grants/auth/grant-api-caller.js';
import { ChangeGrantScopesCommand } from '../grants/change-grant-scopes/change-grant-scopes.command.js';
import { CreateGrantCommand } from '../grants/create-grant/create-grant.command.js';
import { GetGrantHistoryQuery } from '../grants/get-grant-history/get-grant-history.query.js';
import { GetGrantQuery } from '../grants/get-grant/get-grant.query.js';
import { actorFor, parseGrantIdParameter } from '../grants/http/request-input.js';
import { encodeGrantListCursor } from '../grants/list-grants/grant-list-cursor.js';
import { ListGrantsQuery } from '../grants/list-grants/list-grants.query.js';
import { RevokeGrantCommand } from '../grants/revoke-grant/revoke-grant.command.js';
import { translateGrantServiceError } from './grant-grpc.errors.js';
import { actorValue, parseListFilter, parseMinPosition, parseRevokeReasonField } from './grant-request.parsers.js';
import {
  type ChangeGrantScopesRequest,
  type CreateGrantRequest,
  type CreateGrantResponse,
  type GetGrantHistoryRequest,
  type GetGrantHistoryResponse,
  type GetGrantRequest,
  type GrantCommandResponse,
  type GrantMessage,
  type ListGrantsRequest,
  type ListGrantsResponse,
  type RevokeGrantRequest,
  toGrantEventMessage,
  toGrantMessage,
} from './grant.messages.js';
import { GrpcIdempotency } from './grpc-idempotency.js';

type Call<Request, Response> = ServerUnaryCall<Request, Response>;

/**
 * The GrantService of proto/grants/v1/grants.proto. Each method authenticates like the REST
 * API, parses with the same parsers, and runs the same command or query through the buses.
 */
@Injectable()
export class GrantGrpcService {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
    private readonly verifier: AccessTokenVerifier,
    private readonly idempotency: GrpcIdempotency,
    @InjectPinoLogger(GrantGrpcService.name) private readonly logger: PinoLogger,
  ) {}

  /** The handlers to register with grpc-js, keyed by the proto's method names. */
  implementation(): UntypedServiceImplementation {
    return {
      CreateGrant: this.unary('CreateGrant', (request: CreateGrantRequest, call) => this.createGrant(request, call)),
      ChangeGrantScopes: this.unary('ChangeGrantScopes', (request: ChangeGrantScopesRequest, call) => this.changeGrantScopes(request, call)),
      RevokeGrant: this.unary('RevokeGrant', (request: RevokeGrantRequest, call) => this.revokeGrant(request, call)),
      GetGrant: this.unary('GetGrant', (request: GetGrantRequest, call) => this.getGrant(request, call)),
      ListGrants: this.unary('ListGrants', (request: ListGrantsRequest, call) => this.listGrants(request, call)),
      GetGrantHistory: this.unary('GetGrantHistory', (request: GetGrantHistoryRequest, call) => this.getGrantHistory(request, call)),
    };
  }

  private async createGrant(request: CreateGrantRequest, call: Call<CreateGrantRequest, CreateGrantResponse>): Promise<CreateGrantResponse> {
    const caller = await this.authenticate(call.metadata, 'grants:write');
    const command = new CreateGrantCommand(
      parseUserId(request.user_id),
      parseClientId(request.client_id),
      parseScopes(request.scopes),
      actorFor(caller, actorValue(request.actor)),
    );

    return this.idempotency.run(call, caller, methodPath('CreateGrant'), async () => {
      throwIfCancelled(call);
      const result = await this.commandBus.execute(command);
      return { grant: toGrantMessage(result.grant), position: result.position.toString(), created: result.created };
    });
  }

  private async changeGrantScopes(
    request: ChangeGrantScopesRequest,
    call: Call<ChangeGrantScopesRequest, GrantCommandResponse>,
  ): Promise<GrantCommandResponse> {
    const caller = await this.authenticate(call.metadata, 'grants:write');
    const command = new ChangeGrantScopesCommand(
      parseGrantIdParameter(request.grant_id),
      parseScopes(request.scopes),
      actorFor(caller, actorValue(request.actor)),
    );

    return this.idempotency.run(call, caller, methodPath('ChangeGrantScopes'), async () => {
      throwIfCancelled(call);
      const result = await this.commandBus.execute(command);
      return { grant: toGrantMessage(result.grant), position: result.position.toString() };
    });
  }

  private async revokeGrant(request: RevokeGrantRequest, call: Call<RevokeGrantRequest, GrantCommandResponse>): Promise<GrantCommandResponse> {
    const caller = await this.authenticate(call.metadata, 'grants:write');
    const command = new RevokeGrantCommand(
      parseGrantIdParameter(request.grant_id),
      parseRevokeReasonField(request.reason),
      actorFor(caller, actorValue(request.actor)),
    );

    return this.idempotency.run(call, caller, methodPath('RevokeGrant'), async () => {
      throwIfCancelled(call);
      const result = await this.commandBus.execute(command);
      return { grant: toGrantMessage(result.grant), position: result.position.toString() };
    });
  }

  private async getGrant(request: GetGrantRequest, call: Call<GetGrantRequest, GrantMessage>): Promise<GrantMessage> {
    await this.authenticate(call.metadata, 'grants:read');
    const query = new GetGrantQuery(parseGrantIdParameter(request.grant_id), parseMinPosition(request.min_position));

    const grant = await this.queryBus.execute(query);

    return toGrantMessage(grant);
  }

  private async listGrants(request: ListGrantsRequest, call: Call<ListGrantsRequest, ListGrantsResponse>): Promise<ListGrantsResponse> {
    await this.authenticate(call.metadata, 'grants:read');
    const query = new ListGrantsQuery(parseListFilter(request));

    const page = await this.queryBus.execute(query);

    const last = page.items.at(-1);
    return {
      grants: page.items.map(toGrantMessage),
      next_page_token: page.hasMore && last !== undefined ? encodeGrantListCursor(last.grantId) : '',
    };
  }

  private async getGrantHistory(
    request: GetGrantHistoryRequest,
    call: Call<GetGrantHistoryRequest, GetGrantHistoryResponse>,
  ): Promise<GetGrantHistoryResponse> {
    await this.authenticate(call.metadata, 'grants:read');
    const grantId = parseGrantIdParameter(request.grant_id);

    const events = await this.queryBus.execute(new GetGrantHistoryQuery(grantId));

    return { grant_id: grantId, events: events.map(toGrantEventMessage) };
  }

  /** Verifies the bearer access token with the REST API's verifier and checks the scope like GrantApiGuard. */
  private async authenticate(metadata: Metadata, required: GrantApiScope): Promise<GrantApiCaller> {
    const caller = await this.verifier.verify(bearerTokenFrom(metadata));
    if (!hasScope(caller, required)) {
      throw new ProblemError(insufficientScopeProblem(required, `This call needs an access token with the ${required} or grants:admin scope.`));
    }
    return caller;
  }

  private unary<Request, Response>(method: string, handle: (request: Request, call: Call<Request, Response>) => Promise<Response>) {
    return unaryCall({ method, logger: this.logger, translateError: translateGrantServiceError, handle });
  }
}

function methodPath(method: string): string {
  return `/${grantServiceName}/${method}`;
}
