/** The exit codes of `relay`, documented in `relay --help` and the README. */
export const EXIT = {
  ok: 0,
  /** A Relay error: its code is printed (e.g. job_not_found), and a file-system error (its errno code). */
  error: 1,
  /** The job ended in a status other than completed (failed, expired, cancelled). */
  notCompleted: 2,
  /** `--timeout` ran out before the job finished; the job goes on at the provider. */
  waitTimeout: 3,
  /** A usage error: an unknown command or option, a missing or invalid argument. */
  usage: 64,
  /** A bug in Relay (please report it, with the output of RELAY_DEBUG=1). */
  internal: 70,
  /** Interrupted (Ctrl-C); a job already submitted goes on at the provider. */
  interrupted: 130,
} as const;

export const EXIT_CODES_HELP = `Exit codes:
  0    success
  1    a Relay error; its code is printed in brackets, e.g. [job_not_found], [invalid_input_file], [EROFS]
  2    the job ended in a status other than completed (failed, expired or cancelled)
  3    --timeout ran out before the job finished (the job goes on at the provider)
  64   usage error: unknown command or option, missing or invalid argument
  70   internal error (a bug; RELAY_DEBUG=1 prints the stack)
  130  interrupted (Ctrl-C)`;
