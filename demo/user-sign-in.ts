import { createHash, randomBytes } from 'node:crypto';

/**
 * Signs a user in at a development OpenID provider built on `oidc-provider` with its development
 * login and consent pages, the way a browser would (authorization code flow with PKCE), and returns
 * the user's access token. Only for the demo: a real provider needs a real browser and a real login.
 */
export async function signInAtDevelopmentProvider(settings: {
  issuer: string;
  clientId: string;
  redirectUri: string;
  userId: string;
  scope: string;
}): Promise<string> {
  const cookies = new Map<string, string>();
  const request = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const separator = pair.indexOf('=');
      cookies.set(pair.slice(0, separator), pair.slice(separator + 1));
    }
    return response;
  };

  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const authorization = new URL(`${settings.issuer}/auth`);
  authorization.search = new URLSearchParams({
    client_id: settings.clientId,
    response_type: 'code',
    redirect_uri: settings.redirectUri,
    scope: settings.scope,
    state,
    nonce: randomBytes(16).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();

  // Follow redirects by hand and submit the login and consent pages until the provider redirects
  // to the client with the code.
  let location = authorization.toString();
  for (let step = 0; step < 12; step += 1) {
    if (location.startsWith(settings.redirectUri)) {
      const callback = new URL(location);
      if (callback.searchParams.get('state') !== state) throw new Error('the provider returned another state');
      const code = callback.searchParams.get('code');
      if (!code) throw new Error(`the provider returned no code: ${callback.searchParams.get('error_description') ?? location}`);
      return exchangeCode(settings, code, verifier);
    }

    const response = await request(new URL(location, settings.issuer).toString());
    if (response.status >= 300 && response.status < 400) {
      location = response.headers.get('location') ?? '';
      continue;
    }

    const page = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
    const prompt = /name="prompt" value="([a-z]+)"/.exec(page)?.[1];
    if (!action || !prompt) throw new Error(`unexpected page from the provider (status ${response.status})`);
    const fields: Record<string, string> = prompt === 'login' ? { prompt, login: settings.userId, password: 'demo' } : { prompt };
    const submitted = await request(new URL(action, settings.issuer).toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    location = submitted.headers.get('location') ?? '';
  }
  throw new Error('the sign-in did not reach the redirect URI within 12 steps');
}

async function exchangeCode(settings: { issuer: string; clientId: string; redirectUri: string }, code: string, verifier: string): Promise<string> {
  const discovery = (await (await fetch(`${settings.issuer}/.well-known/openid-configuration`)).json()) as { token_endpoint: string };
  const response = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: settings.redirectUri,
      client_id: settings.clientId,
      code_verifier: verifier,
    }).toString(),
  });
  const body = (await response.json()) as { access_token?: string; error?: string };
  if (!body.access_token) throw new Error(`the code exchange failed with ${response.status}: ${body.error ?? ''}`);
  return body.access_token;
}
