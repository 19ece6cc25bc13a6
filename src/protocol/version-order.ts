/**
 * Version order of PROTOCOL.md §10.1: SemVer 2.0.0 precedence (pre-releases below releases), never
 * string order [fix: Lingua picked "latest" by string order, so 1.9.0 beat 1.10.0].
 */
import semver from 'semver';

/** Descending precedence, for `Array.prototype.sort`; versions that are not SemVer sort below all others, by string. */
export function compareVersionsDesc(a: string, b: string): number {
  const va = semver.valid(a);
  const vb = semver.valid(b);
  if (va && vb) return semver.rcompare(va, vb);
  if (va) return -1;
  if (vb) return 1;
  return a < b ? 1 : a > b ? -1 : 0;
}

/** `latest_version`: the highest version marked stable, else the highest of all. Input sorted highest first. */
export function latestOf<T extends { version: string; stable: boolean }>(sortedDesc: readonly T[]): T | undefined {
  return sortedDesc.find((v) => v.stable) ?? sortedDesc[0];
}

/** Whether a version is a SemVer pre-release (`2.0.0-rc.1`): such versions are published non-stable by default. */
export function isPrerelease(version: string): boolean {
  return (semver.prerelease(version)?.length ?? 0) > 0;
}
