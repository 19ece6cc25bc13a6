/**
 * Shared-secret authentication (PROTOCOL.md §1.2; §12 item 2): a Bearer header or `?token=`, the
 * header alone when present, 401 with `WWW-Authenticate: Bearer` and no upgrade otherwise; the
 * same rule on the HTTP API, never on `/health`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { tryUpgrade } from '../../support/node-link-client.js';
import { startTestScheduler } from '../../support/test-scheduler.js';
import type { TestScheduler } from '../../support/test-scheduler.js';

let t: TestScheduler;
beforeAll(async () => {
  t = await startTestScheduler({ authToken: 't' });
});
afterAll(async () => {
  await t.stop();
});

describe('auth token', () => {
  it('refuses an upgrade without credentials with 401 and WWW-Authenticate: Bearer (§12 item 2)', async () => {
    const refused = await tryUpgrade(t.ws('/ws/node'));
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer');
  });

  it('upgrades with Authorization: Bearer t on /ws/node and with ?token=t on /ws/session (§12 item 2)', async () => {
    await expect(tryUpgrade(t.ws('/ws/node'), { authorization: 'Bearer t' })).resolves.toMatchObject({ status: 101 });
    await expect(tryUpgrade(t.ws('/ws/session?token=t'))).resolves.toMatchObject({ status: 101 });
  });

  it('refuses a wrong token, and checks only the header when both are given (§12 item 2)', async () => {
    await expect(tryUpgrade(t.ws('/ws/node'), { authorization: 'Bearer x' })).resolves.toMatchObject({ status: 401 });
    await expect(tryUpgrade(t.ws('/ws/node?token=t'), { authorization: 'Bearer x' })).resolves.toMatchObject({ status: 401 });
    await expect(tryUpgrade(t.ws('/ws/node?token=x'), { authorization: 'Bearer t' })).resolves.toMatchObject({ status: 101 });
    await expect(tryUpgrade(t.ws('/ws/node?token=tt'))).resolves.toMatchObject({ status: 401 });
  });

  it('leaves /health open and guards /metrics and /api/v1', async () => {
    expect((await request(`${t.http}/health`)).statusCode).toBe(200);
    for (const path of ['/metrics', '/api/v1/nodes', '/api/v1/pools']) {
      const refused = await request(`${t.http}${path}`);
      await refused.body.dump();
      expect([path, refused.statusCode, refused.headers['www-authenticate']]).toEqual([path, 401, 'Bearer']);
      const allowed = await request(`${t.http}${path}`, { headers: { authorization: 'Bearer t' } });
      await allowed.body.dump();
      expect([path, allowed.statusCode]).toEqual([path, 200]);
    }
    const byQuery = await request(`${t.http}/api/v1/nodes?token=t`);
    await byQuery.body.dump();
    expect(byQuery.statusCode).toBe(200);
  });
});
