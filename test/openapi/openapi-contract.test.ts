import { loadAppDocument, OpenApiContract } from './openapi-kit.js';

describe('when a response departs from its document', () => {
  let contract: OpenApiContract;

  const grant = {
    grant_id: '0b7e3c2a-4d1f-4e8b-9a6c-2f5d8e1b7c40',
    user_id: 'alice',
    client_id: 'news-reader',
    scopes: ['openid'],
    status: 'active',
    created_at: '2026-03-01T10:00:00.000Z',
    updated_at: '2026-03-01T10:00:00.000Z',
    revoked_at: null,
    revoke_reason: null,
    version: 1,
    position: '42',
  };

  function response(status: number, contentType: string | undefined, body: unknown, headers: Record<string, string> = {}) {
    return { status, headers: new Headers({ ...(contentType === undefined ? {} : { 'content-type': contentType }), ...headers }), body };
  }

  beforeAll(async () => {
    contract = await OpenApiContract.of(loadAppDocument('grant-service').document);
  });

  it('accepts a response that matches', () => {
    expect(contract.violations('GET', '/v1/grants/{grant_id}', response(200, 'application/json; charset=utf-8', grant))).toEqual([]);
  });

  it('reports a field the document does not define', () => {
    const violations = contract.violations('GET', '/v1/grants/{grant_id}', response(200, 'application/json', { ...grant, owner: 'alice' }));

    expect(violations).toEqual([expect.stringContaining('must NOT have additional properties')]);
  });

  it('reports a problem code the response does not list', () => {
    const problem = { type: 'https://offline-grants.dev/problems/grant.revoked', title: 'Grant revoked', status: 404, code: 'grant.revoked' };

    const violations = contract.violations('GET', '/v1/grants/{grant_id}', response(404, 'application/problem+json', problem));

    expect(violations).toEqual(expect.arrayContaining([expect.stringContaining('/code must be equal to constant')]));
  });

  it('reports an undocumented status and media type', () => {
    expect(contract.violations('GET', '/v1/grants/{grant_id}', response(418, 'application/json', {}))).toEqual([
      'GET /v1/grants/{grant_id} does not document status 418',
    ]);
    expect(contract.violations('GET', '/v1/grants/{grant_id}', response(200, 'text/plain', 'grant'))).toEqual([
      'status 200 documents application/json, not text/plain',
    ]);
  });

  it('reports a documented header whose value fails its schema', () => {
    const problem = { type: 'https://offline-grants.dev/problems/projection.behind', title: 'Projection behind', status: 503, code: 'projection.behind' };

    const violations = contract.violations('GET', '/v1/grants/{grant_id}', response(503, 'application/problem+json', problem, { 'retry-after': 'soon' }));

    expect(violations).toEqual([expect.stringMatching(/^header Retry-After must be integer/)]);
  });

  it('reports an operation the document lacks', () => {
    expect(() => contract.violations('PUT', '/v1/grants/{grant_id}', response(200, 'application/json', grant))).toThrow(
      'the document has no operation PUT /v1/grants/{grant_id}',
    );
  });
});
