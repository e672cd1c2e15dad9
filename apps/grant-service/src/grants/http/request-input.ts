import type { FastifyRequest } from 'fastify';

import { type Actor, parseActor } from '#grant-domain/actor.js';
import { GrantError } from '#grant-domain/grant-error.js';
import { unsupportedMediaType } from '#platform/problem-details/framework-problems.js';
import { ProblemError } from '#platform/problem-details/problem.js';

import { type GrantApiCaller, insufficientScopeProblem } from '../auth/grant-api-caller.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Returns whether `value` is a UUID in its canonical 8-4-4-4-12 hexadecimal form. */
export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

/** Creates the 400 problem for an invalid path or query parameter. */
export function invalidParameter(field: string, detail: string): ProblemError {
  return new ProblemError({ status: 400, code: 'request.invalid_parameter', title: 'Invalid parameter', detail, field });
}

/** Parses a grant id from the path and returns it in lower case, as PostgreSQL prints UUIDs. */
export function parseGrantIdParameter(value: unknown, field = 'grant_id'): string {
  if (typeof value !== 'string' || !isUuid(value)) {
    throw invalidParameter(field, `${field} must be a UUID such as 0b7e3c2a-4d1f-4e8b-9a6c-2f5d8e1b7c40.`);
  }
  return value.toLowerCase();
}

interface JsonBodyOptions {
  /** Top-level fields the body may contain. Any other field is rejected. */
  allowedFields: readonly string[];
  /** Whether the request may come without a body, which then reads as `{}`. */
  optional?: boolean;
}

/**
 * Returns the request's JSON body as an object after checking its shape: sent as
 * application/json, an object rather than an array or a scalar, and without unknown fields.
 * Fastify has parsed the body before this runs, so invalid JSON never gets here.
 */
export function readJsonObjectBody(request: FastifyRequest, options: JsonBodyOptions): Record<string, unknown> {
  const body: unknown = request.body;
  if (body === undefined || body === null) {
    if (options.optional && body === undefined) return {};
    throw new ProblemError({
      status: 400,
      code: 'request.invalid_body',
      title: 'Invalid request body',
      detail: 'The request body must be a JSON object sent with Content-Type: application/json.',
    });
  }

  const contentType = request.headers['content-type'];
  if (!isJsonMediaType(contentType)) {
    // Nest and Fastify also parse form-encoded and plain-text bodies, which this API does not accept.
    throw new ProblemError(unsupportedMediaType(contentType));
  }

  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new ProblemError({
      status: 400,
      code: 'request.invalid_body',
      title: 'Invalid request body',
      detail: `The request body must be a JSON object, not ${Array.isArray(body) ? 'an array' : `a ${typeof body}`}.`,
    });
  }

  const fields = body as Record<string, unknown>;
  rejectUnknownFields(fields, options.allowedFields, '');
  return fields;
}

/**
 * Returns the actor an event records. By default that is the calling service. A caller with
 * `grants:admin` may name another actor in the body, such as the user or client it acts for.
 */
export function actorFor(caller: GrantApiCaller, bodyActor: unknown): Actor {
  if (bodyActor === undefined) return { type: 'service', id: caller.id };
  if (!caller.isAdmin) {
    throw new ProblemError(
      insufficientScopeProblem('grants:admin', 'Only a caller with the grants:admin scope may set actor, so remove actor from the body.'),
    );
  }
  if (typeof bodyActor !== 'object' || bodyActor === null || Array.isArray(bodyActor)) {
    throw new GrantError('grant.invalid_actor', 'actor must be an object with type and id', 'actor');
  }
  rejectUnknownFields(bodyActor as Record<string, unknown>, ['type', 'id'], 'actor.');
  return parseActor(bodyActor);
}

function rejectUnknownFields(fields: Record<string, unknown>, allowedFields: readonly string[], prefix: string): void {
  const unknown = Object.keys(fields).find((field) => !allowedFields.includes(field));
  if (unknown !== undefined) {
    throw new ProblemError({
      status: 400,
      code: 'request.unknown_field',
      title: 'Unknown field',
      detail: `The field ${prefix}${unknown} is not part of this request, so send only ${allowedFields.map((field) => `${prefix}${field}`).join(', ')}.`,
      field: `${prefix}${unknown}`,
    });
  }
}

function isJsonMediaType(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/json\s*(;|$)/i.test(contentType.trim());
}

/** Rejects query parameters the route does not define, so that a misspelt filter is not silently ignored. */
export function rejectUnknownParameters(query: Record<string, unknown> | undefined, allowed: readonly string[]): void {
  const unknown = Object.keys(query ?? {}).find((name) => !allowed.includes(name));
  if (unknown !== undefined) {
    const expected = allowed.length === 0 ? 'this route takes no query parameters' : `this route takes only ${allowed.join(', ')}`;
    throw invalidParameter(unknown, `The query parameter ${unknown} is unknown, and ${expected}.`);
  }
}
