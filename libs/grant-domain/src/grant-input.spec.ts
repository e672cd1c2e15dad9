import { parseActor } from './actor.js';
import { GrantError } from './grant-error.js';
import { parseClientId, parseUserId } from './grant-input.js';
import { parseRevokeReason, revokeReasons } from './revoke-reason.js';

function rejectionOf(run: () => unknown): GrantError {
  try {
    run();
  } catch (error) {
    if (error instanceof GrantError) return error;
    throw error;
  }
  throw new Error('the parser accepted the value');
}

describe.each([
  ['user_id', parseUserId, 'grant.invalid_user_id'],
  ['client_id', parseClientId, 'grant.invalid_client_id'],
] as const)('when a %s is parsed', (field, parse, code) => {
  it.each([
    ['one character', 'u'],
    ['255 characters', 'u'.repeat(255)],
    ['non-ASCII letters', 'Ærøskøbing-ユーザー'],
    ['spaces and punctuation', 'mail:jane doe@example.com'],
  ])('accepts %s', (_case, value) => {
    expect(parse(value)).toBe(value);
  });

  it.each([
    ['an empty string', ''],
    ['256 characters', 'u'.repeat(256)],
    ['a NUL character', 'user\u0000'],
    ['a line feed', 'user\nadmin'],
    ['DEL', 'user\u007f'],
    ['a C1 control character', 'user\u0085'],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
  ])('rejects %s', (_case, value) => {
    const error = rejectionOf(() => parse(value));

    expect(error.code).toBe(code);
    expect(error.field).toBe(field);
  });

  it('names the field given by the caller', () => {
    expect(rejectionOf(() => parse('', 'subject')).field).toBe('subject');
  });
});

describe('when a revocation reason is parsed', () => {
  it.each(revokeReasons.map((reason) => [reason]))('accepts %s', (reason) => {
    expect(parseRevokeReason(reason)).toBe(reason);
  });

  it.each([['USER'], [''], ['logout'], [undefined], [1]])('rejects %p', (value) => {
    const error = rejectionOf(() => parseRevokeReason(value));

    expect(error.code).toBe('grant.invalid_reason');
    expect(error.field).toBe('reason');
  });
});

describe('when an actor is parsed', () => {
  it.each([['user'], ['admin'], ['client'], ['service'], ['system']])('accepts type %s', (type) => {
    expect(parseActor({ type, id: 'actor-1' })).toEqual({ type, id: 'actor-1' });
  });

  it('drops fields other than type and id', () => {
    expect(parseActor({ type: 'user', id: 'u-1', name: 'Jane' } as { type: string; id: string })).toEqual({ type: 'user', id: 'u-1' });
  });

  it.each([['robot'], ['User'], [undefined]])('rejects type %p', (type) => {
    const error = rejectionOf(() => parseActor({ type, id: 'actor-1' }));

    expect(error.code).toBe('grant.invalid_actor');
    expect(error.field).toBe('actor.type');
  });

  it.each([[''], ['a'.repeat(256)], ['id\u0000'], [7]])('rejects id %p', (id) => {
    const error = rejectionOf(() => parseActor({ type: 'client', id }));

    expect(error.code).toBe('grant.invalid_actor');
    expect(error.field).toBe('actor.id');
  });
});
