import { GrantError } from './grant-error.js';
import { maxScopeLength, maxScopes, parseScopes, sameScopes } from './scope-set.js';

function rejectionOf(value: unknown): GrantError {
  try {
    parseScopes(value);
  } catch (error) {
    if (error instanceof GrantError) return error;
    throw error;
  }
  throw new Error(`parseScopes accepted ${JSON.stringify(value)}`);
}

describe('when scopes are parsed', () => {
  it('returns the scopes sorted', () => {
    expect(parseScopes(['profile', 'openid', 'offline_access'])).toEqual(['offline_access', 'openid', 'profile']);
  });

  it('folds duplicates into one scope', () => {
    expect(parseScopes(['openid', 'openid', 'email'])).toEqual(['email', 'openid']);
  });

  it('keeps scopes that differ only in case', () => {
    expect(parseScopes(['Read', 'read'])).toEqual(['Read', 'read']);
  });

  it('accepts every printable character RFC 6749 allows', () => {
    const token = '!#$%&\'()*+,-./0123456789:;<=>?@AZ[]^_`az{|}~';

    expect(parseScopes([token])).toEqual([token]);
  });

  it.each([
    ['a space', 'read write'],
    ['a double quote', 'read"'],
    ['a backslash', 'read\\write'],
    ['a non-ASCII letter', 'lecture:é'],
    ['a control character', 'read\u0001'],
    ['DEL', 'read\u007f'],
    ['an empty string', ''],
  ])('rejects a scope with %s', (_case, scope) => {
    const error = rejectionOf(['openid', scope]);

    expect(error.code).toBe('grant.invalid_scopes');
    expect(error.field).toBe('scopes[1]');
  });

  it('rejects a scope that is not a string', () => {
    expect(rejectionOf(['openid', 42]).field).toBe('scopes[1]');
  });

  it('accepts a scope of the maximum length', () => {
    expect(parseScopes(['s'.repeat(maxScopeLength)])).toHaveLength(1);
  });

  it('rejects a scope over the maximum length', () => {
    expect(rejectionOf(['s'.repeat(maxScopeLength + 1)]).code).toBe('grant.invalid_scopes');
  });

  it('rejects an empty list', () => {
    const error = rejectionOf([]);

    expect(error.code).toBe('grant.invalid_scopes');
    expect(error.field).toBe('scopes');
  });

  it('accepts 100 distinct scopes', () => {
    const scopes = Array.from({ length: maxScopes }, (_, index) => `scope-${index}`);

    expect(parseScopes(scopes)).toHaveLength(100);
  });

  it('rejects 101 distinct scopes', () => {
    const scopes = Array.from({ length: maxScopes + 1 }, (_, index) => `scope-${index}`);

    expect(rejectionOf(scopes).field).toBe('scopes');
  });

  it('counts scopes after folding duplicates', () => {
    const scopes = [...Array.from({ length: maxScopes }, (_, index) => `scope-${index}`), 'scope-0'];

    expect(parseScopes(scopes)).toHaveLength(100);
  });

  it.each([[undefined], [null], ['openid profile'], [{ 0: 'openid' }]])('rejects %p, which is not an array', (value) => {
    const error = rejectionOf(value);

    expect(error.code).toBe('grant.invalid_scopes');
    expect(error.field).toBe('scopes');
  });

  it('names the field given by the caller', () => {
    let field: string | undefined;
    try {
      parseScopes(['bad scope'], 'requested_scopes');
    } catch (error) {
      field = (error as GrantError).field;
    }

    expect(field).toBe('requested_scopes[0]');
  });
});

describe('when two scope sets are compared', () => {
  it('finds parsed sets of the same scopes equal', () => {
    expect(sameScopes(parseScopes(['b', 'a', 'a']), parseScopes(['a', 'b']))).toBe(true);
  });

  it('finds sets of different sizes unequal', () => {
    expect(sameScopes(['a'], ['a', 'b'])).toBe(false);
  });

  it('finds sets that differ in case unequal', () => {
    expect(sameScopes(['read'], ['Read'])).toBe(false);
  });
});
