/** Selection of the active grants a bulk revocation ends: those of one user or one client, optionally narrowed further. */
export interface RevocationFilter {
  userId?: string;
  clientId?: string;
  /** Only grants whose current scopes include this scope. */
  scope?: string;
  /** Only grants created strictly before this instant. */
  createdBefore?: Date;
}

/** The filter as stored in revocation_jobs.filter and returned by the API. */
export interface RevocationFilterJson {
  user_id?: string;
  client_id?: string;
  scope?: string;
  created_before?: string;
}

export function toRevocationFilterJson(filter: RevocationFilter): RevocationFilterJson {
  return {
    ...(filter.userId === undefined ? {} : { user_id: filter.userId }),
    ...(filter.clientId === undefined ? {} : { client_id: filter.clientId }),
    ...(filter.scope === undefined ? {} : { scope: filter.scope }),
    ...(filter.createdBefore === undefined ? {} : { created_before: filter.createdBefore.toISOString() }),
  };
}

export function fromRevocationFilterJson(json: RevocationFilterJson): RevocationFilter {
  return {
    ...(json.user_id === undefined ? {} : { userId: json.user_id }),
    ...(json.client_id === undefined ? {} : { clientId: json.client_id }),
    ...(json.scope === undefined ? {} : { scope: json.scope }),
    ...(json.created_before === undefined ? {} : { createdBefore: new Date(json.created_before) }),
  };
}
