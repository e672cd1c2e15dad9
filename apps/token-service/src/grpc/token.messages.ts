// Messages of proto/tokens/v1/tokens.proto as proto-loader decodes and encodes them: snake_case
// fields, unset strings as '', and uint64 values as decimal strings.

export interface IssueOfflineTokenRequest {
  grant_id: string;
  min_position: string;
}

export interface IssueOfflineTokenResponse {
  refresh_token: string;
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  grant_id: string;
}

/** Client credentials of the OAuth calls; both are empty when the client authenticates with Basic metadata. */
export interface ClientCredentialFields {
  client_id: string;
  client_secret: string;
}

export interface RefreshRequest extends ClientCredentialFields {
  refresh_token: string;
  scope: string;
}

export interface RefreshResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
}

export interface IntrospectRequest extends ClientCredentialFields {
  token: string;
  token_type_hint: string;
}

export interface IntrospectResponse {
  active: boolean;
  scope: string;
  client_id: string;
  sub: string;
  iss: string;
  iat: number;
  exp: number;
  jti: string;
  grant_id: string;
  token_type: string;
  aud: string[];
}

export interface RevokeRequest extends ClientCredentialFields {
  token: string;
  token_type_hint: string;
}

/** Builds the Introspect response from the RFC 7662 JSON that the REST endpoint returns. */
export function toIntrospectResponse(json: { active: boolean } & Record<string, unknown>): IntrospectResponse {
  const text = (name: string) => (typeof json[name] === 'string' ? json[name] : '');
  const seconds = (name: string) => (typeof json[name] === 'number' ? json[name] : 0);
  const audience = json.aud;
  return {
    active: json.active,
    scope: text('scope'),
    client_id: text('client_id'),
    sub: text('sub'),
    iss: text('iss'),
    iat: seconds('iat'),
    exp: seconds('exp'),
    jti: text('jti'),
    grant_id: text('grant_id'),
    token_type: text('token_type'),
    aud: typeof audience === 'string' ? [audience] : Array.isArray(audience) ? audience.filter((value) => typeof value === 'string') : [],
  };
}
