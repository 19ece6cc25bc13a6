import { describe, expect, it } from 'vitest';
import { buildCatalogue, findPackage, modelInfoBody, serviceDetailBody, serviceListBody, signatureBody } from '../../../src/actors/hub/catalogue.js';
import type { PackageRecord } from '../../../src/kernel/ports/hub-storage.port.js';
import { compareVersionsDesc, latestOf } from '../../../src/protocol/version-order.js';

function pkg(version: string, stable: boolean, extra: Partial<PackageRecord> = {}): PackageRecord {
  return {
    serviceId: 'tts-es',
    version,
    file: `/s/services/tts-es/${version}.zip`,
    sizeBytes: 100,
    sha256: 'b'.repeat(64),
    createdAt: '2026-11-20T10:00:00.000Z',
    stable,
    service: { service_id: 'tts-es', service_name: 'eSpeak NG TTS (es)', type: 'tts', service_type: 'node', models: [{ model_id: 'es', model_type: 'tts' }] },
    ...extra,
  };
}

describe('hub catalogue', () => {
  it('orders versions by SemVer precedence, not as strings; pre-releases sit below their release', () => {
    const versions = ['1.9.0', '2.0.0-rc.1', '1.10.0', '2.0.0', '2.0.0-beta.2', 'not-semver', '0.9.9'];
    expect([...versions].sort(compareVersionsDesc)).toEqual(['2.0.0', '2.0.0-rc.1', '2.0.0-beta.2', '1.10.0', '1.9.0', '0.9.9', 'not-semver']);
  });

  it('latest_version is the highest stable version, else the highest of all (§10.1, checklist 38)', () => {
    const c = buildCatalogue({ packages: [pkg('1.9.0', true), pkg('2.0.0-rc.1', false), pkg('1.10.0', true)], models: [], stamps: {} }, 1);
    const body = serviceListBody(c);
    expect(body.services[0]).toMatchObject({ service_id: 'tts-es', latest_version: '1.10.0', type: 'tts', service_type: 'node' });
    expect(body.services[0]?.versions.map((v) => v.version)).toEqual(['2.0.0-rc.1', '1.10.0', '1.9.0']);
    expect(findPackage(c, 'tts-es', 'latest')?.version).toBe('1.10.0');
    const unstable = buildCatalogue({ packages: [pkg('0.1.0', false), pkg('0.2.0-rc.1', false)], models: [], stamps: {} }, 1);
    expect(serviceListBody(unstable).services[0]?.latest_version).toBe('0.2.0-rc.1');
    expect(latestOf([])).toBeUndefined();
  });

  it('detail carries sha256, models and the download URL; signature only when stored', () => {
    const c = buildCatalogue({ packages: [pkg('1.0.0', true, { signature: { alg: 'ed25519', key_id: 'k1', signature: 'c2ln' } }), pkg('1.1.0', true)], models: [], stamps: {} }, 1);
    const entry = c.services.get('tts-es');
    expect(entry && serviceDetailBody(entry).versions[1]).toEqual({
      version: '1.0.0', size_bytes: 100, sha256: 'b'.repeat(64), models: [{ model_id: 'es', model_type: 'tts' }], created_at: '2026-11-20T10:00:00.000Z', stable: true, download_url: '/storage/services/tts-es/1.0.0.zip',
    });
    expect(signatureBody(pkg('1.1.0', true))).toBeUndefined();
    expect(signatureBody(pkg('1.0.0', true, { signature: { alg: 'ed25519', key_id: 'k1', signature: 'c2ln' } }))).toEqual({ service_id: 'tts-es', version: '1.0.0', sha256: 'b'.repeat(64), alg: 'ed25519', key_id: 'k1', signature: 'c2ln' });
  });

  it('legacy models list every version, default_version is the SemVer maximum (§10.7 fix)', () => {
    const c = buildCatalogue({
      packages: [],
      models: [{ modelId: 'whisper', name: 'Whisper', task: 'asr', languages: ['en'], versions: ['1.9.0', '1.10.0'].map((version) => ({ version, dir: `/m/${version}`, files: [{ path: 'a.bin', sizeBytes: 3 }, { path: 'b/c.bin', sizeBytes: 4 }], updatedAt: '2026-01-01T00:00:00.000Z' })) }],
      stamps: {},
    }, 1);
    const model = c.models.get('whisper');
    expect(model && modelInfoBody(model)).toMatchObject({ id: 'whisper', default_version: '1.10.0', versions: [{ version: '1.10.0', size_bytes: 7, checksum_sha256: '{}' }, { version: '1.9.0' }] });
  });
});
