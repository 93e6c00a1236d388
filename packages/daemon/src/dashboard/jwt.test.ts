import { StickerbotError } from '@stickerbot/protocol';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { DASHBOARD_JWT_AUDIENCE, DASHBOARD_JWT_ISSUER, createJwtAuthenticator, signDashboardToken } from './jwt.js';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const NOW = Date.UTC(2026, 0, 1);

async function refusalOf(promise: Promise<unknown>): Promise<StickerbotError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(StickerbotError);
  return error as StickerbotError;
}

describe('dashboard JWTs', () => {
  it('turns a minted token into a principal with its role, sessions and expiry', async () => {
    const token = await signDashboardToken(SECRET, { subject: 'alice', role: 'operator', sessions: ['shop', 'home'], ttlSeconds: 3600, now: NOW });
    const principal = await createJwtAuthenticator({ secret: SECRET, now: () => NOW + 1000 }).authenticate(token);
    expect(principal).toMatchObject({ subject: 'alice', role: 'operator', expiresAt: NOW + 3_600_000 });
    expect(principal?.sessions).toEqual(new Set(['shop', 'home']));
  });

  it('grants every session for the * claim', async () => {
    const token = await signDashboardToken(SECRET, { subject: 'root', role: 'admin', sessions: '*', ttlSeconds: 60, now: NOW });
    expect((await createJwtAuthenticator({ secret: SECRET, now: () => NOW }).authenticate(token))?.sessions).toBe('all');
  });

  it('passes tokens that are not JWTs on to the next authenticator', async () => {
    expect(await createJwtAuthenticator({ secret: SECRET }).authenticate('the-admin-token-0123456789')).toBeUndefined();
  });

  it('refuses an expired token saying it expired', async () => {
    const token = await signDashboardToken(SECRET, { subject: 'alice', role: 'viewer', sessions: ['shop'], ttlSeconds: 60, now: NOW });
    const error = await refusalOf(Promise.resolve(createJwtAuthenticator({ secret: SECRET, now: () => NOW + 3_600_000 }).authenticate(token)));
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).toMatch(/expired/);
  });

  it('refuses a token signed with another secret as forged', async () => {
    const token = await signDashboardToken(`${SECRET}-other`, { subject: 'mallory', role: 'admin', sessions: '*', ttlSeconds: 60, now: NOW });
    const error = await refusalOf(Promise.resolve(createJwtAuthenticator({ secret: SECRET, now: () => NOW }).authenticate(token)));
    expect(error.message).toMatch(/forged/);
  });

  it('refuses a tampered payload', async () => {
    const token = await signDashboardToken(SECRET, { subject: 'alice', role: 'viewer', sessions: ['shop'], ttlSeconds: 60, now: NOW });
    const [header, , signature] = token.split('.');
    const payload = Buffer.from(JSON.stringify({ sub: 'alice', role: 'admin', sessions: '*', iss: DASHBOARD_JWT_ISSUER, aud: DASHBOARD_JWT_AUDIENCE, exp: NOW / 1000 + 60 })).toString('base64url');
    const error = await refusalOf(Promise.resolve(createJwtAuthenticator({ secret: SECRET, now: () => NOW }).authenticate(`${header}.${payload}.${signature}`)));
    expect(error.code).toBe('UNAUTHORIZED');
  });

  it('refuses a JWT minted for another audience or without a role', async () => {
    const key = new TextEncoder().encode(SECRET);
    const otherAudience = await new SignJWT({ role: 'admin', sessions: '*' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setIssuer(DASHBOARD_JWT_ISSUER)
      .setAudience('something-else')
      .setExpirationTime(NOW / 1000 + 60)
      .sign(key);
    const noRole = await new SignJWT({ sessions: '*' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setIssuer(DASHBOARD_JWT_ISSUER)
      .setAudience(DASHBOARD_JWT_AUDIENCE)
      .setExpirationTime(NOW / 1000 + 60)
      .sign(key);
    const authenticator = createJwtAuthenticator({ secret: SECRET, now: () => NOW });
    expect((await refusalOf(Promise.resolve(authenticator.authenticate(otherAudience)))).message).toMatch(/aud/);
    expect((await refusalOf(Promise.resolve(authenticator.authenticate(noRole)))).message).toMatch(/role/);
  });

  it('refuses an unsigned (alg none) token', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'x', role: 'admin', sessions: '*', iss: DASHBOARD_JWT_ISSUER, aud: DASHBOARD_JWT_AUDIENCE, exp: NOW / 1000 + 60 })).toString('base64url');
    // Three parts so that it is judged as a JWT rather than passed on.
    const error = await refusalOf(Promise.resolve(createJwtAuthenticator({ secret: SECRET, now: () => NOW }).authenticate(`${header}.${payload}.x`)));
    expect(error.code).toBe('UNAUTHORIZED');
  });

  it('will not mint with a short secret or bad claims', async () => {
    await expect(signDashboardToken('short', { subject: 'a', role: 'viewer', sessions: ['x'], ttlSeconds: 60 })).rejects.toMatchObject({ code: 'INVALID_ARGS' });
    await expect(signDashboardToken(SECRET, { subject: 'a', role: 'viewer', sessions: ['Bad Id'], ttlSeconds: 60 })).rejects.toMatchObject({ code: 'INVALID_ARGS' });
    await expect(signDashboardToken(SECRET, { subject: 'a', role: 'viewer', sessions: ['x'], ttlSeconds: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGS' });
  });
});
