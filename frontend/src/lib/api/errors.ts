import type { ErrorCode, ErrorDetails } from "./types";

/**
 * Codes of failures that carry no error body of the API's: no answer at all (`network_error`),
 * the dashboard's proxy could not reach the API (`api_unreachable`), or an answer that is not
 * the API's error shape (`http_<status>`).
 */
export type LocalErrorCode = "network_error" | "api_unreachable" | `http_${number}`;

/** An API call that did not succeed: an HTTP error with the API's error body, or no answer. */
export class ApiError extends Error {
  constructor(
    /** The HTTP status; 0 when no response arrived. */
    readonly status: number,
    /** The API's stable error code, e.g. `validation_failed`, or a local one. */
    readonly code: ErrorCode | LocalErrorCode,
    message: string,
    /** The API's structured details (which fields, the recipient limit, ...), when it sent any. */
    readonly details?: ErrorDetails,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** True when the API could not be reached at all (network, proxy or gateway failure). */
  get unreachable(): boolean {
    return this.status === 0 || this.status === 502 || this.status === 504;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Builds an ApiError from a response status and its (possibly non-standard) body. The body's
 * `code` and `details` are taken as the contract (openapi.json) types them; the readers of
 * `details` still check each part they use.
 */
export function toApiError(status: number, body: unknown): ApiError {
  if (isRecord(body) && isRecord(body.error)) {
    const { code, message, details } = body.error;
    if (typeof code === "string" && typeof message === "string") {
      return new ApiError(
        status,
        code as ErrorCode | LocalErrorCode,
        message,
        isRecord(details) ? (details as ErrorDetails) : undefined,
      );
    }
  }
  return new ApiError(status, `http_${status}`, `The server answered with HTTP ${status}.`);
}

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * Awaits an openapi-fetch call and returns its data, or throws an ApiError (status 0 when the
 * request never got an answer). Aborts are rethrown as they are.
 */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await call;
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network_error", "The server cannot be reached.");
  }
  if (result.response.ok && result.error === undefined) {
    return result.data as T;
  }
  return Promise.reject(toApiError(result.response.status, result.error));
}

export function isAbortError(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}
