// Verifies an access token the way a third-party service would: jose fetches our JWKS and checks signature,
// issuer, audience, expiry and typ. Prints one JSON line; exits 1 when the token is refused.
// Usage: node verify-jwt.mjs <jwks-url> <token> <issuer> <audience>
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [jwksUrl, token, issuer, audience] = process.argv.slice(2);
try {
  const keys = createRemoteJWKSet(new URL(jwksUrl));
  const { payload, protectedHeader } = await jwtVerify(token, keys, { issuer, audience, typ: 'at+jwt' });
  console.log(JSON.stringify({ ok: true, payload, protectedHeader }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: error.code ?? error.message }));
  process.exitCode = 1;
}
