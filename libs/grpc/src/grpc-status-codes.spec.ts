import { Metadata, status } from '@grpc/grpc-js';

import { decodeStatusDetails, errorCodeMetadataKey, errorDomain, statusDetailsMetadataKey, toStatusObject } from './grpc-call-error.js';
import { grpcStatusByCode, grpcStatusForCode } from './grpc-status-codes.js';

/** The expected status of every code, written out again so that a changed mapping fails here first. */
const expectedStatus: Record<string, status> = {
  'grant.invalid_user_id': status.INVALID_ARGUMENT,
  'grant.invalid_client_id': status.INVALID_ARGUMENT,
  'grant.invalid_scopes': status.INVALID_ARGUMENT,
  'grant.invalid_reason': status.INVALID_ARGUMENT,
  'grant.invalid_actor': status.INVALID_ARGUMENT,
  'grant.not_found': status.NOT_FOUND,
  'grant.revoked': status.FAILED_PRECONDITION,
  'grant.concurrency_conflict': status.ABORTED,
  'projection.behind': status.UNAVAILABLE,
  'request.invalid_parameter': status.INVALID_ARGUMENT,
  'request.invalid_body': status.INVALID_ARGUMENT,
  'request.invalid_idempotency_key': status.INVALID_ARGUMENT,
  'request.invalid_metadata': status.INVALID_ARGUMENT,
  'request.malformed_message': status.INVALID_ARGUMENT,
  'request.cancelled': status.CANCELLED,
  'idempotency.key_reused': status.FAILED_PRECONDITION,
  'idempotency.request_in_progress': status.ABORTED,
  'auth.invalid_token': status.UNAUTHENTICATED,
  'auth.insufficient_scope': status.PERMISSION_DENIED,
  'auth.jwks_unavailable': status.UNAVAILABLE,
  'client.invalid_input': status.INVALID_ARGUMENT,
  'client.not_found': status.NOT_FOUND,
  'client.already_exists': status.ALREADY_EXISTS,
  'client.bootstrap_protected': status.FAILED_PRECONDITION,
  'client.authentication_failed': status.UNAUTHENTICATED,
  'client.not_confidential': status.FAILED_PRECONDITION,
  'client.scope_not_allowed': status.PERMISSION_DENIED,
  'key.not_found': status.NOT_FOUND,
  'key.in_use': status.FAILED_PRECONDITION,
  'token.malformed': status.INVALID_ARGUMENT,
  'token.invalid_signature': status.INVALID_ARGUMENT,
  'token.wrong_type': status.INVALID_ARGUMENT,
  'token.wrong_issuer': status.INVALID_ARGUMENT,
  'token.wrong_audience': status.INVALID_ARGUMENT,
  'token.expired': status.FAILED_PRECONDITION,
  'token.revoked': status.FAILED_PRECONDITION,
  'token.client_mismatch': status.PERMISSION_DENIED,
  'token.client_not_registered': status.FAILED_PRECONDITION,
  'token.grant_not_found': status.NOT_FOUND,
  'token.grant_revoked': status.FAILED_PRECONDITION,
  'token.grant_mismatch': status.FAILED_PRECONDITION,
  'token.offline_access_missing': status.FAILED_PRECONDITION,
  'token.idle_timeout_exceeded': status.FAILED_PRECONDITION,
  'token.max_lifetime_exceeded': status.FAILED_PRECONDITION,
  'token.scope_not_granted': status.PERMISSION_DENIED,
  'token.projection_behind': status.UNAVAILABLE,
  'token.projection_stale': status.UNAVAILABLE,
  'token.grant_revocation_failed': status.UNAVAILABLE,
  'oauth.invalid_request': status.INVALID_ARGUMENT,
  'oauth.invalid_client': status.UNAUTHENTICATED,
  'oauth.invalid_grant': status.FAILED_PRECONDITION,
  'oauth.unauthorized_client': status.PERMISSION_DENIED,
  'oauth.unsupported_grant_type': status.INVALID_ARGUMENT,
  'oauth.invalid_scope': status.INVALID_ARGUMENT,
  'oauth.unsupported_token_type': status.INVALID_ARGUMENT,
  'oauth.temporarily_unavailable': status.UNAVAILABLE,
  'oauth.server_error': status.INTERNAL,
  internal_error: status.INTERNAL,
};

describe('gRPC status mapping', () => {
  describe.each(Object.entries(expectedStatus))('when the code is %s', (code, expected) => {
    it(`maps to ${status[expected]}`, () => {
      expect(status[grpcStatusForCode(code)]).toBe(status[expected]);
    });

    it('sends the code in the error-code metadata and in ErrorInfo', () => {
      const sent = toStatusObject({ code, message: 'The value is wrong.', field: 'some_field' });

      expect(sent.code).toBe(expected);
      expect(sent.details).toBe('The value is wrong.');
      expect(sent.metadata?.get(errorCodeMetadataKey)).toEqual([code]);
      const decoded = decodeStatusDetails(sent.metadata!);
      expect(decoded?.code).toBe(expected);
      expect(decoded?.message).toBe('The value is wrong.');
      expect(decoded?.errorInfo).toEqual({ reason: code, domain: errorDomain, metadata: { field: 'some_field' } });
    });
  });

  describe('when the table is compared with the expected statuses', () => {
    it('has no code without an expected status', () => {
      expect(Object.keys(grpcStatusByCode).sort()).toEqual(Object.keys(expectedStatus).sort());
    });
  });

  describe('when a code is missing from the table', () => {
    it('maps a request.* code to INVALID_ARGUMENT', () => {
      expect(status[grpcStatusForCode('request.something_new')]).toBe('INVALID_ARGUMENT');
    });

    it('maps any other code to INTERNAL', () => {
      expect(status[grpcStatusForCode('grant.something_new')]).toBe('INTERNAL');
    });

    it('does not treat inherited property names as codes', () => {
      expect(status[grpcStatusForCode('constructor')]).toBe('INTERNAL');
    });
  });

  describe('when an error has no field but extra details', () => {
    it('sends only the extra ErrorInfo metadata', () => {
      const sent = toStatusObject({ code: 'token.grant_revoked', message: 'The grant is revoked.', details: { oauth_error: 'invalid_grant' } });

      expect(decodeStatusDetails(sent.metadata!)?.errorInfo?.metadata).toEqual({ oauth_error: 'invalid_grant' });
    });
  });

  describe('when trailers carry no status details', () => {
    it('decodes to undefined', () => {
      const trailers = new Metadata();
      trailers.set(errorCodeMetadataKey, 'grant.not_found');

      expect(decodeStatusDetails(trailers)).toBeUndefined();
      expect(trailers.get(statusDetailsMetadataKey)).toEqual([]);
    });
  });
});
