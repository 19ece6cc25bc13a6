/**
 * A SchedulerLinkPort whose connections the test drives: open them, deliver scheduler messages,
 * close them, and read what the node sent, pinged, closed or terminated.
 */
import type { SchedulerConnection, SchedulerLinkEvent, SchedulerLinkPort, SchedulerLinkTarget } from '../../src/kernel/ports/scheduler-link.port.js';
import type { NodeToSchedulerMessage, SchedulerToNodeMessage } from '../../src/protocol/node-link.schema.js';

export class FakeConnection implements SchedulerConnection {
  readonly sent: NodeToSchedulerMessage[] = [];
  pings = 0;
  state: 'connecting' | 'open' | 'closed' = 'connecting';
  closedBy: 'node' | 'node-terminate' | 'peer' | undefined;
  closeCode: number | undefined;

  constructor(
    readonly target: SchedulerLinkTarget,
    private readonly onEvent: (event: SchedulerLinkEvent) => void,
  ) {}

  // — driven by the test —
  open(): void {
    this.state = 'open';
    this.onEvent({ type: 'activity' });
    this.onEvent({ type: 'opened' });
  }

  deliver(message: SchedulerToNodeMessage): void {
    if (this.state !== 'open') throw new Error('deliver on a connection that is not open');
    this.onEvent({ type: 'activity' });
    this.onEvent({ type: 'message', message });
  }

  /** A pong or any ignored frame. */
  activity(): void {
    this.onEvent({ type: 'activity' });
  }

  /** The peer closes, or the connect fails (code 1006). */
  fail(code = 1006, reason = ''): void {
    this.state = 'closed';
    this.closedBy = 'peer';
    this.onEvent({ type: 'closed', code, reason });
  }

  // — SchedulerConnection —
  send(message: NodeToSchedulerMessage): boolean {
    if (this.state !== 'open') return false;
    this.sent.push(message);
    return true;
  }

  ping(): void {
    if (this.state === 'open') this.pings += 1;
  }

  close(code = 1000): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closedBy = 'node';
    this.closeCode = code;
  }

  terminate(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closedBy = 'node-terminate';
  }
}

export class FakeSchedulerLink implements SchedulerLinkPort {
  readonly connections: FakeConnection[] = [];

  connect(target: SchedulerLinkTarget, onEvent: (event: SchedulerLinkEvent) => void): SchedulerConnection {
    const connection = new FakeConnection(target, onEvent);
    this.connections.push(connection);
    return connection;
  }

  get last(): FakeConnection {
    const connection = this.connections[this.connections.length - 1];
    if (!connection) throw new Error('no connection yet');
    return connection;
  }
}
