import { InvalidJobIdError } from "../errors.js";

const JOB_ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const MAX_JOB_ID_LENGTH = 128;

/** Job IDs become file names, so only a safe alphabet is allowed and nothing that could name another file. */
export function assertValidJobId(jobId: unknown): asserts jobId is string {
  if (typeof jobId !== "string" || jobId.trim() === "") {
    throw new InvalidJobIdError('The job ID is blank. Give a name such as "my-batch-001".');
  }
  if (jobId.length > MAX_JOB_ID_LENGTH) {
    throw new InvalidJobIdError(
      `The job ID is ${jobId.length} characters long; the limit is ${MAX_JOB_ID_LENGTH}.`,
    );
  }
  if (!JOB_ID_PATTERN.test(jobId)) {
    throw new InvalidJobIdError(
      `The job ID "${jobId}" is not allowed: use letters, digits, ".", "_" and "-" only, ` +
        'not starting with "." and with no path separators.',
    );
  }
  if (jobId.endsWith("_results")) {
    throw new InvalidJobIdError(
      `The job ID "${jobId}" ends in "_results", which would clash with another job's results file. Choose another name.`,
    );
  }
}

/** Whether a name is a job ID (a file name of the workspace that can be a job's record). */
export function isValidJobId(jobId: string): boolean {
  return jobId.length <= MAX_JOB_ID_LENGTH && JOB_ID_PATTERN.test(jobId) && !jobId.endsWith("_results");
}
