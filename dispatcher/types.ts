/** The dispatcher's transport-neutral request and response: both adapters translate to these. */

export interface ApiRequest {
  method: string;
  /** Path without query string, e.g. /streams/abc. */
  path: string;
  query: Record<string, string | undefined>;
  headers: Record<string, string | undefined>;
  /** Raw body text (already size-checked by the adapter when it could). */
  body: string | null;
  /** Authenticated caller, or null when the adapter could not authenticate. */
  owner: string | null;
}

export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
  /** Sent as they are instead of `body` as JSON (pictures, the console's files). */
  raw?: { bytes: Buffer; contentType: string };
}

/** A request error with the contract's error shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toResponse(): ApiResponse {
    return {
      status: this.status,
      ...(this.headers ? { headers: this.headers } : {}),
      body: {
        error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) },
      },
    };
  }
}
