/**
 * The floor of bench/pipeline.ts (a): the same hops as a job through scheduler and node, with
 * nothing but `ws` and JSON on them. A client sends the utterance to a relay (the scheduler's
 * place), the relay hands it to a worker connected to it (the node's place), the worker makes the
 * three HTTP calls and sends back the transcript, the translation and the TTS audio as base64, and
 * the relay passes that on to the client. No validation, no sessions, no dispatch, no actors, no
 * acknowledgements: what any design with these four WebSocket hops pays at least. Frames are
 * written with the project's `encodeJson` (long base64 members copied, not scanned), as the system's
 * are, so the floor is not raised by a slower serializer.
 */
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { encodeJson } from '../src/protocol/validation.js';

interface RelayJob {
  id: number;
  audio: string;
}

export interface RelayAnswer {
  id: number;
  text_asr: string;
  text_translated: string;
  tts_audio: string;
}

export interface BareRelay {
  /** The URL a client connects to. */
  clientUrl: string;
  close(): Promise<void>;
}

/**
 * A relay on 127.0.0.1 and one worker connected to it; `work` is what the worker does with a job
 * (the three HTTP calls).
 */
export async function startBareRelay(work: (job: RelayJob) => Promise<Omit<RelayAnswer, 'id'>>): Promise<BareRelay> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 16 * 1024 * 1024 });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const clients = new Map<number, WebSocket>();
  let worker: WebSocket | undefined;
  let nextId = 0;
  const workerJoined = new Promise<void>((resolve) => {
    server.on('connection', (ws, req) => {
      if (req.url === '/worker') {
        worker = ws;
        ws.on('message', (data) => {
          const answer = JSON.parse(data.toString()) as RelayAnswer;
          const client = clients.get(answer.id);
          clients.delete(answer.id);
          client?.send(encodeJson({ type: 'translation_result', ...answer }));
        });
        resolve();
        return;
      }
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { audio: string };
        const id = nextId++;
        clients.set(id, ws);
        worker?.send(encodeJson({ id, audio: frame.audio } satisfies RelayJob));
      });
    });
  });

  const workerSocket = new WebSocket(`ws://127.0.0.1:${port}/worker`);
  workerSocket.on('message', (data) => {
    const job = JSON.parse(data.toString()) as RelayJob;
    void work(job).then((answer) => workerSocket.send(encodeJson({ id: job.id, ...answer } satisfies RelayAnswer)));
  });
  await Promise.all([workerJoined, new Promise((resolve) => workerSocket.once('open', resolve))]);

  return {
    clientUrl: `ws://127.0.0.1:${port}/client`,
    close: async () => {
      workerSocket.close();
      for (const ws of server.clients) ws.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
