/**
 * Bad input, as the audio worker's helpers report it: the handler turns a TaskRefusal into a typed
 * failure reply (AUDIO_DECODE_FAILED or AUDIO_ENCODE_FAILED, by task). Anything else thrown is a bug
 * or a broken engine and reaches the adapter as a worker failure.
 */
export class TaskRefusal extends Error {
  constructor(
    /** A stable snake_case word, sent as `details.reason`. */
    readonly reason: string,
    message: string,
    readonly extra: Record<string, string | number> = {},
  ) {
    super(message);
    this.name = 'TaskRefusal';
  }
}
