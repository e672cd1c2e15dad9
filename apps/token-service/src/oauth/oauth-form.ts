import { OAuthError } from './oauth-error.js';

const formMediaType = 'application/x-www-form-urlencoded';

/**
 * The parameters of an OAuth request body, which RFC 6749 §3.2 requires to be form-encoded.
 * Fastify has already decoded the body; a repeated parameter arrives as an array.
 */
export class OAuthForm {
  private constructor(private readonly fields: Readonly<Record<string, unknown>>) {}

  /** Raises invalid_request for any body that is not `application/x-www-form-urlencoded`. */
  static parse(contentType: string | undefined, body: unknown): OAuthForm {
    const mediaType = contentType?.split(';')[0].trim().toLowerCase();
    if (mediaType !== formMediaType || typeof body !== 'object' || body === null) {
      throw new OAuthError(
        'invalid_request',
        `the request body must be ${formMediaType} (RFC 6749 §3.2), not ${mediaType ?? 'missing'}; send the parameters as a form`,
      );
    }
    return new OAuthForm(body as Record<string, unknown>);
  }

  /**
   * One parameter's value. An empty value counts as omitted (RFC 6749 §3.1); a repeated
   * parameter is invalid_request, because the RFC forbids sending one more than once.
   */
  get(name: string): string | undefined {
    const value = Object.hasOwn(this.fields, name) ? this.fields[name] : undefined;
    if (Array.isArray(value)) {
      throw new OAuthError('invalid_request', `the parameter ${name} is sent more than once; send it once`);
    }
    if (typeof value !== 'string' || value === '') return undefined;
    return value;
  }

  require(name: string): string {
    const value = this.get(name);
    if (value === undefined) throw new OAuthError('invalid_request', `the parameter ${name} is missing`);
    return value;
  }
}
