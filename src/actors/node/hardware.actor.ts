/**
 * The node's `hardware` actor: probes the machine once at start (the probe `node_register` carries,
 * PROTOCOL.md §2.2) and samples resources for heartbeats (§2.5), through the HardwarePort.
 */
import { fromCallback } from 'xstate';
import type { Bus } from '../../kernel/bus.js';
import type { Clock } from '../../kernel/clock.js';
import { sleep } from '../../kernel/clock.js';
import { AbortedError, toKernelError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';
import type { HardwarePort, HardwareProbe, ResourceSample } from '../../kernel/ports/hardware.port.js';
import type { ChildSpecInput } from '../../kernel/supervisor.js';

export interface HardwareMonitorOptions {
  port: HardwarePort;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  /** Longest wait for one resource sample, in ms; past it the previous sample is used. */
  sampleTimeoutMs: number;
}

export interface HardwareMonitor {
  /** The machine's probe, done once and shared; a failed probe is tried again by the next call. */
  probe(signal: AbortSignal): Promise<HardwareProbe>;
  /** A fresh sample, or the last good one (zeros at first) when sampling fails or overruns. Never rejects. */
  sample(): Promise<ResourceSample>;
  /** The supervisor child that probes at start and publishes `hardware.probed`. */
  childSpec(): ChildSpecInput;
}

const ZERO_SAMPLE: ResourceSample = { cpuPercent: 0, memPercent: 0 };

function abandonable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new AbortedError('hardware probe abandoned'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError('hardware probe abandoned'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(toKernelError(err, 'HARDWARE_PROBE_FAILED', true));
      },
    );
  });
}

export function createHardwareMonitor(options: HardwareMonitorOptions): HardwareMonitor {
  const log = options.logger.child({ actor: 'hardware' });
  let probing: Promise<HardwareProbe> | undefined;
  let lastSample: ResourceSample = ZERO_SAMPLE;

  const probe = (signal: AbortSignal): Promise<HardwareProbe> => {
    if (!probing) {
      // The shared probe is not tied to any one caller's signal: a caller that gives up leaves it
      // running for the next one.
      const started = options.port.probe(new AbortController().signal);
      probing = started;
      started.then(
        (result) => {
          log.info({ platform: result.platform, cpuCores: result.hardware.cpu_cores, memoryGb: result.hardware.memory_gb, gpus: result.hardware.gpus ?? [], gpuSource: result.gpuSource }, 'hardware probed');
          options.bus.publish({ type: 'hardware.probed', platform: result.platform, hardware: result.hardware });
        },
        (err: unknown) => {
          if (probing === started) probing = undefined;
          const error = toKernelError(err, 'HARDWARE_PROBE_FAILED', true);
          log.warn({ err: error, code: error.code }, 'hardware probe failed; it is tried again at the next registration');
        },
      );
    }
    return abandonable(probing, signal);
  };

  const sample = async (): Promise<ResourceSample> => {
    const deadline = new AbortController();
    const sampling = new AbortController();
    try {
      const result = await Promise.race([
        options.port.sample(sampling.signal),
        // Aborted in `finally` once the race is over; that rejection is expected and swallowed.
        sleep(options.clock, options.sampleTimeoutMs, deadline.signal).then(
          () => undefined,
          () => undefined,
        ),
      ]);
      if (result === undefined) {
        sampling.abort();
        log.warn({ timeoutMs: options.sampleTimeoutMs }, 'resource sample overran its bound; the previous sample is reported');
        return lastSample;
      }
      lastSample = result;
      return result;
    } catch (err) {
      const error = toKernelError(err, 'RESOURCE_SAMPLE_FAILED', true);
      log.warn({ err: error, code: error.code }, 'resource sample failed; the previous sample is reported');
      return lastSample;
    } finally {
      deadline.abort();
    }
  };

  const logic = fromCallback(() => {
    const controller = new AbortController();
    probe(controller.signal).catch(() => undefined);
    return () => controller.abort();
  });

  return {
    probe,
    sample,
    // A callback actor cannot finish on request, so it is stopped at once (shutdownMs 0).
    childSpec: () => ({ id: 'hardware', logic, restart: 'permanent', shutdownMs: 0 }),
  };
}
