/**
 * A whole node (`startNode` with the `jobs` extension built by `createJobsRuntime`) against a
 * scripted scheduler on a real socket: job_assign in, job_ack / job_started / job_result out, all
 * valid node messages; heartbeats and `/status` count the running job; job_cancel silences a job;
 * the node stops its jobs before its link. Audio and speech are fakes on the node's fake clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createJobsRuntime } from '../../../src/cli/jobs-runtime.js';
import type { JobsRuntime } from '../../../src/cli/jobs-runtime.js';
import { NO_SERVICE_CONTROL } from '../../../src/cli/start-node.js';
import { parseNodeToScheduler } from '../../../src/protocol/node-link.schema.js';
import { FakeAudio } from '../../fakes/audio.fake.js';
import { FakeServiceControl } from '../../fakes/service-control.fake.js';
import type { FakeServiceRegistry } from '../../fakes/service-registry.fake.js';
import { after, FakeSpeech, hang } from '../../fakes/speech.fake.js';
import { jobAssign, STANDARD_SERVICES } from '../../support/jobs-harness.js';
import { startTestNode } from '../../support/node-harness.js';
import { ScriptedScheduler, waitFor } from '../../support/scripted-scheduler.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup() {
  const scheduler = await ScriptedScheduler.start();
  cleanups.push(() => scheduler.close());
  const audio = new FakeAudio();
  const speech = new FakeSpeech();
  let runtime!: JobsRuntime;
  const n = await startTestNode(scheduler.url, {
    maxConcurrentJobs: 2,
    jobs: (node) => {
      // `node` carries the node's max_concurrent_jobs (2 here), which the runtime takes as its bound.
      runtime = createJobsRuntime({ ...node, control: new FakeServiceControl(node.registry as FakeServiceRegistry, node.clock), audio, speech });
      expect(node.control).toBe(NO_SERVICE_CONTROL);
      return runtime;
    },
  });
  cleanups.push(async () => {
    // Running jobs get their shutdown time on the node's fake clock: let it pass.
    const stopping = n.node.stop();
    let done = false;
    void stopping.then(() => (done = true));
    for (let i = 0; i < 10 && !done; i++) await n.clock.advanceAsync(10_000);
    await stopping;
  });
  for (const service of STANDARD_SERVICES) n.registry.set(service);
  await waitFor(() => scheduler.connections[0]?.received.length === 1, 'node_register');
  const conn = scheduler.last;
  conn.send({ type: 'node_register_ack', node_id: 'node-00JOBS01', message: 'Node registered successfully', status: 'registering' });
  await waitFor(() => conn.received.some((m) => m.type === 'node_heartbeat'), 'the ack heartbeat');
  const ofJob = (jobId: string) => conn.received.filter((m) => m.job_id === jobId);
  return { n, conn, audio, speech, runtime: () => runtime, ofJob };
}

describe('node: jobs over the scheduler link', () => {
  it('job_assign → job_ack, job_started, one valid job_result; heartbeats and /status count the running job', async () => {
    const { n, conn, speech, runtime, ofJob } = await setup();
    speech.script('asr-1', after(n.clock, 19_000, () => ({ text: 'where is the train station' })));
    const job = jobAssign();
    conn.send(job);
    await waitFor(() => ofJob(job.job_id).length === 2, 'job_ack and job_started');
    expect(ofJob(job.job_id).map((m) => m.type)).toEqual(['job_ack', 'job_started']);
    expect(runtime().runningJobs()).toBe(1);
    expect((await n.http('GET', '/status')).json()).toMatchObject({ runningJobs: 1 });

    await n.clock.advanceAsync(15_000);
    await waitFor(() => conn.received.filter((m) => m.type === 'node_heartbeat').length >= 2, 'a periodic heartbeat');
    const heartbeat = conn.received.filter((m) => m.type === 'node_heartbeat').at(-1)!;
    expect(heartbeat).toMatchObject({ resource_usage: { running_jobs: 1 } });

    await n.clock.advanceAsync(5_000);
    await waitFor(() => ofJob(job.job_id).length === 3, 'job_result');
    const result = ofJob(job.job_id)[2]!;
    expect(result).toMatchObject({ type: 'job_result', node_id: 'node-00JOBS01', success: true, text_asr: 'where is the train station', tts_format: 'opus', extra: { service_timings: { asr_ms: 19_000 } } });
    for (const message of ofJob(job.job_id)) expect(parseNodeToScheduler(JSON.stringify(message)).ok).toBe(true);
    expect(runtime().runningJobs()).toBe(0);
    expect((await n.http('GET', '/status')).json()).toMatchObject({ runningJobs: 0 });
  });

  it('job_cancel from the scheduler: the call is aborted, no job_result; a third job beyond max_concurrent_jobs 2 is refused', async () => {
    const { conn, speech, ofJob } = await setup();
    speech.script('asr-1', hang);
    const [a, b, c] = [jobAssign(), jobAssign(), jobAssign()];
    for (const job of [a, b, c]) conn.send(job);
    await waitFor(() => ofJob(c.job_id).length === 1 && speech.calls.length === 2, 'two jobs running, the third answered');
    expect(ofJob(c.job_id)[0]).toMatchObject({ type: 'job_result', success: false, error: { code: 'NODE_OVERLOADED', details: { running_jobs: 2, max_concurrent_jobs: 2 } } });
    conn.send({ type: 'job_cancel', job_id: a.job_id, reason: 'job_timeout', attempt_id: 1 });
    await waitFor(() => speech.calls[0]!.signal.aborted, 'the call aborted');
    expect(ofJob(a.job_id).map((m) => m.type)).toEqual(['job_ack', 'job_started']);
  });

  it('stopping the node with a job running: the job is stopped without a result and the speech connections are closed', async () => {
    const { n, conn, audio, speech, ofJob } = await setup();
    audio.prepareBehaviour = 'hang';
    const job = jobAssign();
    conn.send(job);
    await waitFor(() => audio.tasks.length === 1, 'the audio task');
    const stopped = n.node.stop();
    // The job gets jobShutdownMs (30 s) to finish on its own; then it is stopped by force.
    await n.clock.advanceAsync(30_000);
    await n.clock.advanceAsync(10_000);
    await stopped;
    expect(audio.tasks[0]!.signal.aborted).toBe(true);
    expect(speech.closed).toBe(true);
    expect(ofJob(job.job_id).map((m) => m.type)).toEqual(['job_ack', 'job_started']);
  });
});
