/**
 * What `linguamesh status` prints: the scheduler's nodes, their services, load, pools and dispatch,
 * as aligned plain-text tables (a person reads them) or as one JSON object (a script reads it).
 * Pure formatting: the data comes from the scheduler API client.
 */
import type { ApiDispatchBody, ApiNode, ApiNodesBody, ApiPoolsBody } from '../protocol/scheduler-api.schema.js';

export interface StatusReport {
  scheduler: string;
  nodes: ApiNodesBody;
  pools: { speech: ApiPoolsBody; text: ApiPoolsBody };
  /** Absent when the scheduler serves no dispatch API. */
  dispatch?: ApiDispatchBody | undefined;
}

/** Columns padded to their widest cell, two spaces apart; a table with no rows prints `(none)`. */
export function renderTable(header: string[], rows: string[][]): string {
  if (rows.length === 0) return '  (none)\n';
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

const percent = (value: number | undefined) => (value === undefined ? '-' : `${Math.round(value)}%`);

function age(atMs: number | undefined, nowMs: number): string {
  if (atMs === undefined) return 'never';
  const seconds = Math.max(0, Math.round((nowMs - atMs) / 1000));
  return seconds < 120 ? `${seconds}s ago` : `${Math.round(seconds / 60)}m ago`;
}

function jobsCell(node: ApiNode, reserved: number | undefined): string {
  const running = node.load ? String(node.load.runningJobs) : '-';
  return `${running}/${node.maxConcurrentJobs}${reserved !== undefined ? ` (${reserved} reserved)` : ''}`;
}

function languagesOf(node: ApiNode): string {
  const { asrLanguages, ttsLanguages, nmtPairs } = node.capabilities;
  const pairs = nmtPairs.map((p) => `${p.src}→${p.tgt}`).join(' ') || '-';
  return `asr ${asrLanguages.join(' ') || '-'} · nmt ${pairs} · tts ${ttsLanguages.join(' ') || '-'}`;
}

function poolRows(body: ApiPoolsBody): string[][] {
  return Object.entries(body.pools)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, members]) => [key, String(members.length), members.join(', ')]);
}

export function renderStatus(report: StatusReport, nowMs: number): string {
  const { nodes, dispatch } = report;
  const reservations = dispatch?.jobs.reservations ?? {};
  const summary = [`${nodes.nodes.length} node${nodes.nodes.length === 1 ? '' : 's'}`];
  if (dispatch) summary.push(`${dispatch.sessions} session${dispatch.sessions === 1 ? '' : 's'} open`, `jobs: ${dispatch.jobs.queued} queued, ${dispatch.jobs.inFlight} in flight`);
  let text = `scheduler ${report.scheduler} · ${summary.join(' · ')}${nodes.source === 'local' ? ' · capability store unreachable: this instance\'s nodes only' : ''}\n\n`;

  text += 'NODES\n';
  text += renderTable(
    ['NODE', 'STATUS', 'REASON', 'JOBS', 'CPU', 'MEM', 'GPU', 'HEARTBEAT'],
    nodes.nodes.map((n) => [n.nodeId, n.status, n.reason, jobsCell(n, reservations[n.nodeId]), percent(n.load?.cpuPercent), percent(n.load?.memPercent), percent(n.load?.gpuPercent), age(n.lastHeartbeatAt, nowMs)]),
  );

  text += '\nSERVICES\n';
  text += renderTable(
    ['NODE', 'SERVICE', 'TYPE', 'DEVICE', 'STATUS', 'VERSION'],
    nodes.nodes.flatMap((n) => n.capabilities.installedServices.map((s) => [n.nodeId, s.service_id, s.type, s.device, s.status, s.version ?? '-'])),
  );

  text += '\nLANGUAGES\n';
  text += renderTable(['NODE', 'LANGUAGES'], nodes.nodes.map((n) => [n.nodeId, languagesOf(n)]));

  for (const variant of ['speech', 'text'] as const) {
    text += `\nPOOLS (${variant}: ${variant === 'speech' ? 'with TTS' : 'text only'})\n`;
    text += renderTable(['POOL', 'NODES', 'MEMBERS'], poolRows(report.pools[variant]));
  }
  return text;
}
