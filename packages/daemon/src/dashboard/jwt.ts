/**
 * Dashboard JWTs (DESIGN §3 security): HS256 tokens signed with `STICKERBOT_JWT_SECRET`,
 * carrying `sub`, `role` and `sessions` claims. {@link signDashboardToken} mints them
 * (`pnpm token`); {@link createJwtAuthenticator} turns a presented one into a
 * {@link Principal} for the `/dashboard` handshake.
 */
import { SESSION_ID_PATTERN, StickerbotError } from '@stickerbot/protocol';
import type { errors as JoseErrors } from 'jose';
import { z } from 'zod';
import type { DashboardAuthenticator, DashboardRole, Principal } from '../bridge/auth.js';

/** The `iss` claim of every dashboard JWT. */
export const DASHBOARD_JWT_ISSUER = 'stickerbot';
/** The `aud` claim of every dashboard JWT: a token minted for something else is refused. */
export const DASHBOARD_JWT_AUDIENCE = 'stickerbot-dashboard';
/** The `sessions` claim value that grants every session, present and future. */
export const ALL_SESSIONS = '*';
/** The shortest accepted secret (the daemon's config asks the same of `STICKERBOT_JWT_SECRET`). */
export const MIN_JWT_SECRET_LENGTH = 32;
/** Tolerated clock difference between the minting machine and the daemon, in seconds. */
const CLOCK_TOLERANCE_S = 30;

const roleSchema = z.enum(['admin', 'operator', 'viewer']);

/** The claims a dashboard JWT must carry besides `iss`, `aud`, `iat` and `exp`. */
export const dashboardClaimsSchema = z.object({
  sub: z.string().min(1).max(128),
  role: roleSchema,
  /** Session ids, or `*` for all of them. */
  sessions: z.union([z.literal(ALL_SESSIONS), z.array(z.string().regex(SESSION_ID_PATTERN)).max(1000)]),
  exp: z.number().int().positive(),
});

/** What {@link signDashboardToken} puts into a token. */
export interface DashboardTokenRequest {
  /** Who the token is for (`sub`), shown in the daemon's logs and on the page. */
  subject: string;
  role: DashboardRole;
  /** Session ids the holder may see, or `*` for all. */
  sessions: readonly string[] | typeof ALL_SESSIONS;
  /** Lifetime in seconds. */
  ttlSeconds: number;
  /** Clock (epoch ms), for tests. */
  now?: number;
}

function secretKey(secret: string): Uint8Array {
  if (secret.length < MIN_JWT_SECRET_LENGTH) {
    throw new StickerbotError('INVALID_ARGS', `the JWT secret must be at least ${MIN_JWT_SECRET_LENGTH} characters`);
  }
  return new TextEncoder().encode(secret);
}

/** Mints a dashboard JWT (HS256). Throws `INVALID_ARGS` for a bad subject, session id, TTL or secret. */
export async function signDashboardToken(secret: string, request: DashboardTokenRequest): Promise<string> {
  const key = secretKey(secret);
  if (!Number.isInteger(request.ttlSeconds) || request.ttlSeconds <= 0) {
    throw new StickerbotError('INVALID_ARGS', 'the token lifetime must be a positive whole number of seconds');
  }
  const issuedAt = Math.floor((request.now ?? Date.now()) / 1000);
  const claims = dashboardClaimsSchema.safeParse({
    sub: request.subject,
    role: request.role,
    sessions: request.sessions === ALL_SESSIONS ? ALL_SESSIONS : [...request.sessions],
    exp: issuedAt + request.ttlSeconds,
  });
  if (!claims.success) {
    throw new StickerbotError('INVALID_ARGS', `bad token claims: ${claims.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const { SignJWT } = await import('jose');
  return new SignJWT({ role: claims.data.role, sessions: claims.data.sessions })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.data.sub)
    .setIssuer(DASHBOARD_JWT_ISSUER)
    .setAudience(DASHBOARD_JWT_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(claims.data.exp)
    .sign(key);
}

/** A compact JWS has three base64url parts; anything else (the admin token) is not ours to judge. */
function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
}

function refusal(err: unknown, joseErrors: typeof JoseErrors): StickerbotError {
  if (err instanceof joseErrors.JWTExpired) return new StickerbotError('UNAUTHORIZED', 'Your sign-in token has expired: ask for a new one');
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new StickerbotError('UNAUTHORIZED', 'This token was not signed by this daemon (wrong secret or forged)');
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return new StickerbotError('UNAUTHORIZED', `This token is not a dashboard token (${err.claim} claim: ${err.reason})`);
  }
  return new StickerbotError('UNAUTHORIZED', 'This token is not a valid dashboard token');
}

/** Options of {@link createJwtAuthenticator}. */
export interface JwtAuthenticatorOptions {
  /** `STICKERBOT_JWT_SECRET`. */
  secret: string;
  /** Clock (epoch ms), for tests. */
  now?: () => number;
}

/**
 * Accepts dashboard JWTs. Tokens that are not JWT-shaped are passed on (`undefined`) to the
 * next authenticator (the admin token); a JWT that fails verification is refused with a
 * `StickerbotError('UNAUTHORIZED')` saying why (expired, forged, not a dashboard token),
 * which the handshake forwards to the page.
 */
export function createJwtAuthenticator(options: JwtAuthenticatorOptions): DashboardAuthenticator {
  const key = secretKey(options.secret);
  const now = options.now ?? Date.now;
  return {
    async authenticate(token): Promise<Principal | undefined> {
      if (!looksLikeJwt(token)) return undefined;
      // jose is loaded with the first JWT presented: a daemon without JWT logins never holds it.
      const { errors, jwtVerify } = await import('jose');
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: DASHBOARD_JWT_ISSUER,
          audience: DASHBOARD_JWT_AUDIENCE,
          requiredClaims: ['sub', 'exp'],
          clockTolerance: CLOCK_TOLERANCE_S,
          currentDate: new Date(now()),
        }));
      } catch (err) {
        throw refusal(err, errors);
      }
      const claims = dashboardClaimsSchema.safeParse(payload);
      if (!claims.success) {
        throw new StickerbotError('UNAUTHORIZED', 'This token lacks a valid role or sessions claim');
      }
      const { sub, role, sessions, exp } = claims.data;
      return Object.freeze({
        subject: sub,
        role,
        sessions: sessions === ALL_SESSIONS ? 'all' : new Set(sessions),
        expiresAt: exp * 1000,
      });
    },
  };
}
