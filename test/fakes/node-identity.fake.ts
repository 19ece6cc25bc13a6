/** A NodeIdentityStore in memory, recording every save. */
import type { NodeIdentityStore } from '../../src/kernel/ports/node-identity.port.js';

export class MemoryNodeIdentityStore implements NodeIdentityStore {
  readonly saves: string[] = [];

  constructor(public nodeId?: string) {}

  async load(): Promise<string | undefined> {
    return this.nodeId;
  }

  async save(nodeId: string): Promise<void> {
    this.saves.push(nodeId);
    this.nodeId = nodeId;
  }
}
