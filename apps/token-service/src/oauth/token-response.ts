/** Successful token response (RFC 6749 §5.1); no refresh token, because offline tokens are not rotated. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}
