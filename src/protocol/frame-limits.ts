/** Frame size limits of the WebSocket links, without zod (config defaults read them at start). */

/** 8 MiB: PROTOCOL.md §1.3 `max_frame_bytes`. */
export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;
