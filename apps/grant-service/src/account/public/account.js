// The account page's script. It signs the user in with the OpenID Connect authorization code
// flow and PKCE S256 (RFC 7636) as a public client, then lists and revokes the user's grants
// through the account API with the access token in the Authorization header.
//
// Tokens are kept in sessionStorage only, never in cookies or the URL: the authorization
// response's code and state are removed from the address bar as soon as the page reads them.

const storageKeys = {
  /** The state, nonce and code verifier of a sign-in that left for the issuer. */
  pendingSignIn: 'account.pendingSignIn',
  /** The access token and who it belongs to. */
  session: 'account.session',
};

/** A sign-in response older than this is rejected, so a stale state cannot be replayed. */
const maxSignInAgeMs = 10 * 60 * 1000;

/** Refuse an access token this close to its expiry, so that it does not expire mid-request. */
const expirySafetyMarginMs = 30 * 1000;

const page = {
  main: document.getElementById('main'),
  status: document.getElementById('status'),
  error: document.getElementById('error'),
  loading: document.getElementById('loading'),
  session: document.getElementById('session'),
  userName: document.getElementById('user-name'),
  signOut: document.getElementById('sign-out'),
  signedOut: document.getElementById('signed-out'),
  signIn: document.getElementById('sign-in'),
  grants: document.getElementById('grants'),
  grantsTitle: document.getElementById('grants-title'),
  empty: document.getElementById('empty'),
  table: document.getElementById('grant-table'),
  rows: document.getElementById('grant-rows'),
  dialog: document.getElementById('confirm-dialog'),
  dialogText: document.getElementById('confirm-text'),
  dialogCancel: document.getElementById('confirm-cancel'),
  dialogRemove: document.getElementById('confirm-remove'),
};

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** An error whose message is written for the person using the page. */
class UserFacingError extends Error {}

// ---- Messages ----------------------------------------------------------------------------

function showStatus(message) {
  page.status.textContent = message;
}

function showError(message) {
  page.error.textContent = message;
  page.error.hidden = false;
}

function clearMessages() {
  page.status.textContent = '';
  page.error.textContent = '';
  page.error.hidden = true;
}

function messageOf(error) {
  if (error instanceof UserFacingError) return error.message;
  return 'Something went wrong on this page. Reload it and try again.';
}

// ---- Encoding helpers --------------------------------------------------------------------

function base64UrlEncode(bytes) {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function base64UrlDecodeToText(value) {
  const base64 = value.replace(/-/g, '+').replace(/_/g, '/');
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (character) => character.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** Generates a random base64url string of `byteCount` bytes. 32 bytes give a 43-character PKCE verifier (RFC 7636 §4.1). */
function randomToken(byteCount) {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(byteCount)));
}

async function codeChallengeOf(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64UrlEncode(new Uint8Array(digest));
}

// ---- Storage -----------------------------------------------------------------------------

function readStored(key) {
  const text = sessionStorage.getItem(key);
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    sessionStorage.removeItem(key);
    return null;
  }
}

function readSession() {
  const session = readStored(storageKeys.session);
  if (session === null || typeof session.accessToken !== 'string') return null;
  if (typeof session.expiresAt === 'number' && session.expiresAt - expirySafetyMarginMs <= Date.now()) {
    sessionStorage.removeItem(storageKeys.session);
    return null;
  }
  return session;
}

// ---- OpenID Connect ----------------------------------------------------------------------

async function fetchJson(url, init, failureMessage) {
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new UserFacingError(`${failureMessage} Check your connection and try again.`);
  }
  if (!response.ok) throw new UserFacingError(`${failureMessage} The server responded with status ${response.status}.`);
  return response.json();
}

/** Fetches the issuer's metadata (OpenID Connect Discovery 1.0 §4) and checks that it belongs to the configured issuer. */
async function discover(config) {
  const metadata = await fetchJson(
    `${config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`,
    { headers: { accept: 'application/json' } },
    'The sign-in service could not be reached.',
  );
  if (metadata.issuer !== config.issuer) {
    throw new UserFacingError('The sign-in service identified itself as a different service, so sign-in was stopped for your safety.');
  }
  if (typeof metadata.authorization_endpoint !== 'string' || typeof metadata.token_endpoint !== 'string') {
    throw new UserFacingError('The sign-in service does not support this kind of sign-in.');
  }
  const methods = metadata.code_challenge_methods_supported;
  if (Array.isArray(methods) && !methods.includes('S256')) {
    throw new UserFacingError('The sign-in service does not support secure sign-in for this page (PKCE S256).');
  }
  return metadata;
}

function redirectUri() {
  return `${location.origin}${location.pathname}`;
}

async function startSignIn(config) {
  const metadata = await discover(config);
  const pending = { state: randomToken(16), nonce: randomToken(16), verifier: randomToken(32), startedAt: Date.now() };
  sessionStorage.setItem(storageKeys.pendingSignIn, JSON.stringify(pending));

  const url = new URL(metadata.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', config.client_id);
  url.searchParams.set('redirect_uri', redirectUri());
  url.searchParams.set('scope', config.scope);
  url.searchParams.set('state', pending.state);
  url.searchParams.set('nonce', pending.nonce);
  url.searchParams.set('code_challenge', await codeChallengeOf(pending.verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  location.assign(url.toString());
}

/**
 * Checks the ID token's claims that bind it to this sign-in (OpenID Connect Core 1.0 §3.1.3.7).
 * Its signature is not checked here: it came straight from the token endpoint over the
 * connection this page opened, which §3.1.3.7 item 6 accepts in place of the signature.
 */
function checkIdToken(idToken, config, nonce) {
  const parts = typeof idToken === 'string' ? idToken.split('.') : [];
  if (parts.length !== 3) throw new UserFacingError('The sign-in service sent an unreadable identity token. Sign in again.');
  let claims;
  try {
    claims = JSON.parse(base64UrlDecodeToText(parts[1]));
  } catch {
    throw new UserFacingError('The sign-in service sent an unreadable identity token. Sign in again.');
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss !== config.issuer || !audiences.includes(config.client_id) || claims.nonce !== nonce) {
    throw new UserFacingError('The sign-in response did not belong to this sign-in, so it was ignored. Sign in again.');
  }
  return claims;
}

/** Completes a sign-in from the authorization response in `params` (RFC 6749 §4.1.2). */
async function completeSignIn(config, params) {
  const pending = readStored(storageKeys.pendingSignIn);
  sessionStorage.removeItem(storageKeys.pendingSignIn);
  // Drop the code and state from the address bar and the history entry before anything else.
  history.replaceState(null, '', location.pathname);

  if (params.has('error')) {
    if (params.get('error') === 'access_denied') throw new UserFacingError('Sign-in was cancelled.');
    throw new UserFacingError(`Sign-in failed (${params.get('error')}). Try again.`);
  }
  if (pending === null || params.get('state') !== pending.state || Date.now() - pending.startedAt > maxSignInAgeMs) {
    throw new UserFacingError('The sign-in response did not match a sign-in started in this tab, so it was ignored. Sign in again.');
  }
  // RFC 9207 §2.4: when the issuer names itself in the response, it must be the expected one.
  if (params.has('iss') && params.get('iss') !== config.issuer) {
    throw new UserFacingError('The sign-in response came from a different service, so it was ignored. Sign in again.');
  }

  const metadata = await discover(config);
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code: params.get('code') ?? '',
    redirect_uri: redirectUri(),
    client_id: config.client_id,
    code_verifier: pending.verifier,
  });
  const tokens = await fetchJson(
    metadata.token_endpoint,
    { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body },
    'Sign-in could not be completed.',
  );
  if (typeof tokens.access_token !== 'string' || String(tokens.token_type).toLowerCase() !== 'bearer') {
    throw new UserFacingError('The sign-in service did not return a usable access token. Sign in again.');
  }
  const claims = checkIdToken(tokens.id_token, config, pending.nonce);

  const session = {
    accessToken: tokens.access_token,
    expiresAt: typeof tokens.expires_in === 'number' ? Date.now() + tokens.expires_in * 1000 : null,
    displayName: typeof claims.name === 'string' ? claims.name : claims.sub,
  };
  sessionStorage.setItem(storageKeys.session, JSON.stringify(session));
  return session;
}

// ---- Account API -------------------------------------------------------------------------

/** Sent when the API rejects the token: the user must sign in again. */
class SessionEndedError extends UserFacingError {}

async function callAccountApi(session, method, path) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${session.accessToken}`, accept: 'application/json' },
      cache: 'no-store',
    });
  } catch {
    throw new UserFacingError('The service could not be reached. Check your connection and try again.');
  }
  if (response.status === 401) throw new SessionEndedError('Your sign-in has ended. Sign in again to continue.');
  if (response.ok) return response.json();

  const problem = await response.json().catch(() => ({}));
  const error = new UserFacingError(
    response.status === 503
      ? 'The service is busy or being updated. Try again in a minute.'
      : `The service could not complete the request (status ${response.status}). Try again later.`,
  );
  error.status = response.status;
  error.code = problem.code;
  throw error;
}

// ---- Rendering ---------------------------------------------------------------------------

function timeElement(isoTime) {
  const time = document.createElement('time');
  time.dateTime = isoTime;
  time.textContent = dateFormat.format(new Date(isoTime));
  return time;
}

/** Creates a table cell. On narrow screens, where the column headers are hidden, `label` names it. */
function cell(label, ...children) {
  const td = document.createElement('td');
  if (label !== null) td.dataset.label = label;
  td.append(...children);
  return td;
}

function accessCell(grant) {
  const nodes = [];
  if (grant.offline_access) {
    const badge = document.createElement('span');
    badge.className = 'offline-badge';
    badge.textContent = 'Offline access: works while you are away';
    nodes.push(badge);
  }
  const list = document.createElement('ul');
  list.className = 'scopes';
  list.setAttribute('aria-label', 'Permissions');
  for (const scope of grant.scopes) {
    const item = document.createElement('li');
    item.textContent = scope;
    if (scope === 'offline_access') item.className = 'offline-scope';
    list.append(item);
  }
  nodes.push(list);
  return cell('Access', ...nodes);
}

function expiryCell(grant) {
  if (grant.expires_at === null) return cell('Expires', 'Never');
  if (Date.parse(grant.expires_at) <= Date.now()) {
    const expired = document.createElement('span');
    expired.className = 'expired';
    expired.append('Expired ', timeElement(grant.expires_at));
    return cell('Expires', expired);
  }
  return cell('Expires', timeElement(grant.expires_at));
}

function grantRow(grant, onRemove) {
  const row = document.createElement('tr');
  row.dataset.grantId = grant.grant_id;

  const name = document.createElement('span');
  name.className = 'client-name';
  name.textContent = grant.client_name;
  const clientId = document.createElement('span');
  clientId.className = 'client-id';
  clientId.textContent = grant.client_id;
  const appCell = cell('App', name, clientId);

  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'button secondary';
  remove.textContent = 'Remove access';
  remove.setAttribute('aria-label', `Remove access for ${grant.client_name}`);
  remove.addEventListener('click', () => onRemove(grant, row, remove));

  row.append(
    appCell,
    accessCell(grant),
    cell('Granted', timeElement(grant.created_at)),
    cell('Last used', grant.last_used_at === null ? 'Not used yet' : timeElement(grant.last_used_at)),
    expiryCell(grant),
    cell(null, remove),
  );
  return row;
}

function updateEmptyState() {
  const hasRows = page.rows.children.length > 0;
  page.table.hidden = !hasRows;
  page.empty.hidden = hasRows;
}

// ---- Removal -----------------------------------------------------------------------------

/** Asks for confirmation in a modal dialog; resolves true when the user confirms. */
function confirmRemoval(grant) {
  page.dialogText.textContent =
    `${grant.client_name} will no longer be able to use your account` +
    (grant.offline_access ? ', including while you are away.' : '.') +
    ' To use it again, you will have to sign in to it and allow access again.';
  page.dialogRemove.disabled = false;
  page.dialogRemove.textContent = 'Remove access';

  return new Promise((resolve) => {
    const finish = (confirmed) => {
      page.dialogCancel.removeEventListener('click', cancel);
      page.dialogRemove.removeEventListener('click', confirm);
      page.dialog.removeEventListener('cancel', cancel);
      resolve(confirmed);
    };
    const cancel = () => {
      page.dialog.close();
      finish(false);
    };
    const confirm = () => finish(true);
    page.dialogCancel.addEventListener('click', cancel);
    page.dialogRemove.addEventListener('click', confirm);
    // Escape closes the dialog and fires `cancel`.
    page.dialog.addEventListener('cancel', cancel);
    page.dialog.showModal();
  });
}

async function removeAccess(session, grant, row, button) {
  clearMessages();
  if (!(await confirmRemoval(grant))) {
    button.focus();
    return;
  }

  page.dialogRemove.disabled = true;
  page.dialogRemove.textContent = 'Removing…';
  try {
    await callAccountApi(session, 'DELETE', `/v1/account/grants/${encodeURIComponent(grant.grant_id)}`);
  } catch (error) {
    page.dialog.close();
    if (error instanceof SessionEndedError) {
      endSession(error.message);
      return;
    }
    if (error.status === 404) {
      // Removed meanwhile, for example from another tab: the row is stale.
      row.remove();
      updateEmptyState();
      showStatus(`${grant.client_name} no longer had access to your account.`);
      page.grantsTitle.focus();
      return;
    }
    showError(`Access for ${grant.client_name} could not be removed. ${messageOf(error)}`);
    button.focus();
    return;
  }

  page.dialog.close();
  row.remove();
  updateEmptyState();
  showStatus(`Access for ${grant.client_name} was removed.`);
  page.grantsTitle.focus();
}

// ---- Page states -------------------------------------------------------------------------

function showSignedOut(config) {
  page.session.hidden = true;
  page.grants.hidden = true;
  page.loading.hidden = true;
  page.signedOut.hidden = false;
  page.signIn.onclick = async () => {
    clearMessages();
    page.signIn.disabled = true;
    try {
      await startSignIn(config);
    } catch (error) {
      page.signIn.disabled = false;
      showError(messageOf(error));
    }
  };
}

let currentConfig = null;

function endSession(message) {
  sessionStorage.removeItem(storageKeys.session);
  showSignedOut(currentConfig);
  if (message) showError(message);
  page.signIn.focus();
}

async function showGrants(session) {
  page.signedOut.hidden = true;
  page.session.hidden = false;
  page.userName.textContent = session.displayName;
  page.signOut.onclick = () => {
    clearMessages();
    endSession();
    showStatus('You are signed out of this page.');
  };

  page.loading.hidden = false;
  let body;
  try {
    body = await callAccountApi(session, 'GET', '/v1/account/grants');
  } catch (error) {
    page.loading.hidden = true;
    if (error instanceof SessionEndedError) {
      endSession(error.message);
      return;
    }
    showError(`Your connected apps could not be loaded. ${messageOf(error)}`);
    return;
  }
  page.loading.hidden = true;

  page.rows.replaceChildren(...body.grants.map((grant) => grantRow(grant, (...args) => removeAccess(session, ...args))));
  updateEmptyState();
  page.grants.hidden = false;
}

async function main() {
  let config;
  try {
    config = await fetchJson('/account/config.json', { headers: { accept: 'application/json' } }, 'This page could not load its settings.');
  } catch (error) {
    showError(messageOf(error));
    return;
  }
  currentConfig = config;
  if (config.issuer === null) {
    showError('Sign-in is not set up on this server yet, so your connected apps cannot be shown. Please contact the service operator.');
    return;
  }

  const params = new URLSearchParams(location.search);
  let session = null;
  if (params.has('code') || params.has('error')) {
    try {
      session = await completeSignIn(config, params);
      page.main.focus();
    } catch (error) {
      showSignedOut(config);
      showError(messageOf(error));
      return;
    }
  } else {
    session = readSession();
  }

  if (session === null) {
    showSignedOut(config);
    return;
  }
  await showGrants(session);
}

main();
