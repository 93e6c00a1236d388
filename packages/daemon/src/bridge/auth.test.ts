import { describe, expect, it } from 'vitest';
import {
  ADMIN_PRINCIPAL,
  canRunDashboardCommand,
  canSeeSession,
  composeAuthenticators,
  createAdminTokenAuthenticator,
  type Principal,
} from './auth.js';

const operator: Principal = { subject: 'olga', role: 'operator', sessions: new Set(['shop']) };
const viewer: Principal = { subject: 'vic', role: 'viewer', sessions: new Set(['shop']) };

describe('dashboard authorization', () => {
  it('lets the admin see and do everything', () => {
    expect(canSeeSession(ADMIN_PRINCIPAL, 'anything')).toBe(true);
    expect(canRunDashboardCommand(ADMIN_PRINCIPAL, 'session:create', 'new')).toBe(true);
  });

  it('limits an operator to the sessions of its claim, and never lets it create one', () => {
    expect(canSeeSession(operator, 'shop')).toBe(true);
    expect(canSeeSession(operator, 'other')).toBe(false);
    expect(canRunDashboardCommand(operator, 'session:logout', 'shop')).toBe(true);
    expect(canRunDashboardCommand(operator, 'session:logout', 'other')).toBe(false);
    expect(canRunDashboardCommand(operator, 'session:create', 'shop')).toBe(false);
  });

  it('lets a viewer only watch its sessions', () => {
    expect(canRunDashboardCommand(viewer, 'session:subscribe', 'shop')).toBe(true);
    expect(canRunDashboardCommand(viewer, 'session:subscribe', 'other')).toBe(false);
    expect(canRunDashboardCommand(viewer, 'session:stop', 'shop')).toBe(false);
  });
});

describe('authenticators', () => {
  it('accepts the admin token only', () => {
    const admin = createAdminTokenAuthenticator((token) => token === 'secret');
    expect(admin.authenticate('secret')).toBe(ADMIN_PRINCIPAL);
    expect(admin.authenticate('guess')).toBeUndefined();
  });

  it('tries each authenticator in order', async () => {
    const jwtLike = { authenticate: (token: string) => (token.startsWith('jwt:') ? operator : undefined) };
    const chain = composeAuthenticators(jwtLike, createAdminTokenAuthenticator((token) => token === 'secret'));
    expect(await chain.authenticate('jwt:abc')).toBe(operator);
    expect(await chain.authenticate('secret')).toBe(ADMIN_PRINCIPAL);
    expect(await chain.authenticate('nothing')).toBeUndefined();
  });
});
