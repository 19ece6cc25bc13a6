/**
 * The package's published types, through the package's own name ('linguamesh', package.json
 * `exports` › `types`): the option types are the configuration schemas' input types, and the
 * handles' `on` is typed by event. `npm run typecheck` checks the expectations; the runtime half
 * checks that the schemas the types come from are the ones the package exports.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type { BusEventOf, HubOptions, NodeHandle, NodeOptions, NodeRoleConfigSchema, SchedulerHandle, SchedulerOptions, SchedulerStatus } from 'linguamesh';
import * as api from '../../../src/index.js';

describe("the public API of 'linguamesh'", () => {
  it('option types come from the configuration schemas', () => {
    expectTypeOf<NodeOptions['schedulerUrl']>().toExtend<string | string[]>();
    expectTypeOf<string | string[]>().toExtend<NodeOptions['schedulerUrl']>();
    expectTypeOf<NodeOptions['httpPort']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Omit<NodeOptions, 'logger' | 'schedulerUrl'>>().toEqualTypeOf<Omit<z.input<typeof NodeRoleConfigSchema>, 'schedulerUrl'>>();
    expectTypeOf<SchedulerOptions['allowCpuNodes']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<SchedulerOptions['inspect']>().toEqualTypeOf<boolean | string | undefined>();
    expectTypeOf<HubOptions['storageDir']>().toEqualTypeOf<string>();
    expect(Object.keys(api.NodeRoleConfigSchema.shape)).toEqual(expect.arrayContaining(['schedulerUrl', 'extraServiceDirs', 'hubUrl', 'inspect', 'record', 'logLevel']));
  });

  it('handles: typed subscriptions and statuses', () => {
    const subscribe = (node: NodeHandle) =>
      node.on('link.registered', (event) => {
        expectTypeOf(event).toEqualTypeOf<BusEventOf<'link.registered'>>();
      });
    expectTypeOf(subscribe).returns.toEqualTypeOf<() => void>();
    expectTypeOf<ReturnType<SchedulerHandle['status']>>().toEqualTypeOf<Promise<SchedulerStatus>>();
    expectTypeOf(api.startNode).returns.toEqualTypeOf<NodeHandle>();
    expect([typeof api.startNode, typeof api.startScheduler, typeof api.startHub]).toEqual(['function', 'function', 'function']);
  });
});
