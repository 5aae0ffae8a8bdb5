import { redactSecrets } from "./util/secrets.js";

/**
 * Every error Relay throws is a RelayError with a stable `code` to switch on.
 * Messages say what happened and what to do about it; they never contain API keys (every configured key is
 * redacted from them, whatever a provider answered).
 */
export class RelayError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(redactSecrets(message), options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The caller's input is invalid; nothing was sent to the provider and nothing stored was changed. */
export class ValidationError extends RelayError {
  constructor(message: string, code = "invalid_input") {
    super(code, message);
  }
}

export class InvalidJobIdError extends ValidationError {
  constructor(message: string) {
    super(message, "invalid_job_id");
  }
}

export class UnknownProviderError extends ValidationError {
  constructor(message: string) {
    super(message, "unknown_provider");
  }
}

export class MissingApiKeyError extends RelayError {
  readonly envVar: string;
  constructor(provider: string, envVar: string) {
    super(
      "missing_api_key",
      `No API key for provider "${provider}". Set the ${envVar} environment variable or pass ` +
        `providers.${provider}.apiKey to new RelayClient(). Nothing was sent.`,
    );
    this.envVar = envVar;
  }
}

export class JobNotFoundError extends RelayError {
  constructor(jobId: string) {
    super(
      "job_not_found",
      `No job "${jobId}" in this workspace. List the jobs with client.listJobs() or \`relay list\`.`,
    );
  }
}

export class JobExistsError extends RelayError {
  constructor(message: string) {
    super("job_exists", message);
  }
}

export class JobNotFinishedError extends RelayError {
  readonly status: string;
  constructor(jobId: string, status: string) {
    super(
      "job_not_finished",
      `Job "${jobId}" has not finished (status: ${status}); its results are not available yet. ` +
        `Call monitorBatch("${jobId}") until the status is completed, failed, expired or cancelled, then retrieve.`,
    );
    this.status = status;
  }
}

/** A stored file exists but cannot be read as what it should be. Never treated as absent. */
export class CorruptWorkspaceError extends RelayError {
  readonly path: string;
  constructor(path: string, detail: string, remedy = "inspect or restore it by hand") {
    super(
      "corrupt_workspace",
      `The workspace file ${path} is corrupt (${detail}). Relay did not change it; ${remedy}.`,
    );
    this.path = path;
  }
}

export class JobLockedError extends RelayError {
  constructor(jobId: string, holder: string) {
    super(
      "job_locked",
      `Job "${jobId}" is being changed by another process (${holder}). Try again when it has finished.`,
    );
  }
}

/** The provider answered with an error, or could not be reached after retries. */
export class ProviderError extends RelayError {
  readonly provider: string;
  readonly httpStatus: number | undefined;
  constructor(
    provider: string,
    message: string,
    options: { httpStatus?: number; cause?: unknown; code?: string } = {},
  ) {
    super(options.code ?? "provider_error", `${provider}: ${message}`, { cause: options.cause });
    this.provider = provider;
    this.httpStatus = options.httpStatus;
  }
}

/** waitForBatch gave up after its `timeoutMs`; the job goes on at the provider. */
export class WaitTimeoutError extends RelayError {
  readonly status: string;
  constructor(jobId: string, timeoutMs: number, status: string) {
    super(
      "wait_timeout",
      `Job "${jobId}" has not finished after ${Math.round(timeoutMs / 1000)} s (status: ${status}); it goes on at ` +
        `the provider. Wait again later, or check it with monitorBatch("${jobId}").`,
    );
    this.status = status;
  }
}
