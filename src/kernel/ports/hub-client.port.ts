/**
 * The node's view of the model hub (PROTOCOL.md §10): the catalogue, checksums, signatures and
 * resumable package downloads. Every method rejects only with KernelErrors: `HUB_UNREACHABLE`
 * (retryable) when the hub cannot be reached or answers 5xx, `SERVICE_NOT_FOUND` /
 * `VERSION_NOT_FOUND` on 404, `DOWNLOAD_STALLED` (retryable) when a body stops flowing.
 */
import type { ServiceChecksum, ServiceDetail, ServiceSignature, ServiceSummary } from '../../protocol/hub-api.schema.js';

export interface PackageDownloadRequest {
  serviceId: string;
  version: string;
  /** The partial file: bytes already in it are kept and the rest is fetched with a Range request. */
  file: string;
  /** Expected sha256 (hex), sent as `If-Range: "<sha256>"` so a changed package restarts from 0. */
  sha256: string;
  /** Called with the bytes in the partial file (its whole prefix hashed) as they grow. */
  onProgress?: (bytesOnDisk: number) => void;
}

export interface PackageDownloadResult {
  /** Size of the complete file. */
  sizeBytes: number;
  /** sha256 (lower-case hex) of the complete file, computed while it was written. */
  sha256: string;
  /** Bytes that were already in the partial file when this attempt began. */
  resumedFromBytes: number;
  /** Bytes received in this attempt. */
  fetchedBytes: number;
  /** 200: whole file (restart), 206: resumed, 416: the partial file was already complete. */
  status: 200 | 206 | 416;
}

export interface HubClientPort {
  listServices(signal: AbortSignal): Promise<ServiceSummary[]>;
  getService(serviceId: string, signal: AbortSignal): Promise<ServiceDetail>;
  getChecksum(serviceId: string, version: string, signal: AbortSignal): Promise<ServiceChecksum>;
  /** undefined when the hub holds no signature (404). */
  getSignature(serviceId: string, version: string, signal: AbortSignal): Promise<ServiceSignature | undefined>;
  /** One download attempt into `request.file`, resuming what it holds (PROTOCOL.md §10.9 step 2). */
  download(request: PackageDownloadRequest, signal: AbortSignal): Promise<PackageDownloadResult>;
  close(): Promise<void>;
}
