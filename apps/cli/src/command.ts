/** A subcommand of `imgpipe`: gets its own arguments (after its name) and returns the process exit code. */
export interface Command {
  readonly summary: string;
  run(argv: string[]): Promise<number>;
}

/** Exit codes that mean something, following sysexits(3) where one fits. */
export const EXIT = {
  ok: 0,
  /** The work ran and something failed (an image failed analysis, a service is down). */
  failure: 1,
  /** The command line was wrong. */
  usage: 2,
  /** A service the command needs is unavailable. */
  unavailable: 69,
  /** Configuration error. */
  config: 78,
} as const;
