/**
 * Named errors: `name` is what a Step Functions Retry/Catch matches on, and the message is the cause an
 * operator reads in the console, so it says what was found and what to do.
 */
export class BluegreenError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** The release record in SSM is missing or holds something that is not a valid record. */
export function recordInvalid(message: string): BluegreenError {
  return new BluegreenError('RecordInvalid', message);
}

/** The load balancer is not configured the way bluegreen built it (unknown target group, no forward action). */
export function routerInvalid(message: string): BluegreenError {
  return new BluegreenError('RouterInvalid', message);
}
